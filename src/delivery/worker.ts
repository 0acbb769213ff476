import type { Job, JobAttempt, PgBoss } from 'pg-boss';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { AddressGuard } from './address-guard.js';
import type { Db, Tx } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import { CLAIMABLE, type DueDelivery } from '../store/deliveries.js';
import * as webhookSubscriptions from '../store/webhook-subscriptions.js';
import { Doorbell, pause } from './doorbell.js';
import { CapCache, FairShare, type Shared } from './fair-share.js';
import { GroupCommit } from './group-commit.js';
import { listenForJobs, type JobWakeups } from './job-wakeups.js';
import { DELIVERY_SHARD_QUEUES, ORDERED_DELIVERY_QUEUES, enqueue, isDeliveryJob, queueFor, type DeliveryJobTarget, type DeliveryJobV1 } from './jobs.js';
import type { Metrics } from './metrics.js';
import { decideOutcome } from './outcome.js';
import { PGBOSS_SCHEMA, deliveryExpireSeconds } from './queue.js';
import { RateLimiter } from './rate-limit.js';
import { recordAttempts, type AppliedAttempt, type FinishedAttempt } from './record.js';
import { SecretCache, buildRequest, recordedHeaders } from './request.js';
import { Sender, type SendResult } from './sender.js';
import { USER_AGENT } from './version.js';
import { traceAttempt } from '../telemetry/delivery.js';

export interface DeliveryWorkerOptions {
  config: Config;
  db: Db;
  boss: PgBoss;
  log: Logger;
  secretKey: Buffer;
  metrics?: Metrics;
  /** Defaults to a guard built from HOOKGRAPH_ALLOW_TARGETS (tests pass one with a fake resolver). */
  guard?: AddressGuard;
}

/** Worker bookkeeping (claims, outcomes) commits without waiting for the WAL flush: see TransactionOptions.durable. */
const WORKER = { durable: false } as const;
/** A group commit holds at most this many outcomes… */
const GROUP_COMMIT_ITEMS = 200;
/** …and the first of them waits at most this long for others to join it. */
const GROUP_COMMIT_DELAY_MS = 3;
/** A job held for its subscription's share this long is deferred: well inside the 5 s its expiry allows beyond the delivery timeout. */
const HOLD_LIMIT_MS = 2_000;
/** A deferred held job is due again after this, doubling with each deferral of the attempt up to 16×. */
const HOLD_DEFER_MS = 1_000;
/** Polling backstop: NOTIFY (or a freed slot, or a retry falling due) usually wakes a fetch loop first. */
const POLL_MS = 2_000;
const POLL_WITHOUT_NOTIFY_MS = 500;
const FETCH_RETRY_MAX_MS = 5_000;

type DeliveryJob = Job<DeliveryJobV1>;

/** A job this worker fetched; from then on it holds a slot (or is held) until it is settled. */
interface Fetched extends Shared {
  job: DeliveryJob;
  queue: string;
}

interface Claim {
  fetched: Fetched;
  row: DueDelivery;
  /** Wait before sending (ordered deliveries under a rate limit wait in-process). */
  waitMs: number;
}

type Finished = FinishedAttempt & { fetched: Fetched };

/**
 * Streams delivery attempts. One fetch loop per queue pulls jobs whenever
 * slots are free (`FairShare`: HOOKGRAPH_WORKER_IN_FLIGHT in all, a bounded
 * share per subscription), claims them (SENDING, announced) and starts each
 * attempt on its own; no attempt waits for another's HTTP request. Finished
 * attempts are written in small group commits (`GroupCommit`): attempt rows,
 * delivery outcomes, subscription health, retry jobs and the pg-boss
 * completion of every job of the group in one transaction, so a job is
 * completed only in the transaction that records its attempt. A crash or a
 * PostgreSQL restart at any point leaves jobs active; pg-boss expires and
 * re-runs them, and the attempt-count fence in the job makes re-runs of
 * recorded attempts no-ops.
 *
 * Ordered deliveries keep pg-boss's key: one active job per subscription, or
 * per subscription and key value for `orderingKey` subscriptions. Completing (or, for a retry, failing) it in the group commit releases the
 * next one, and the loop is woken to fetch it.
 */
export class DeliveryWorker {
  private readonly sender: Sender;
  private readonly secrets: SecretCache;
  private readonly limiter = new RateLimiter();
  private readonly userAgent = USER_AGENT;
  private readonly caps = new CapCache();
  private readonly share: FairShare<Fetched>;
  private readonly outcomes: GroupCommit<Finished>;
  private readonly bells = new Map<string, Doorbell>();
  private readonly loops: Promise<void>[] = [];
  /** Claims, attempts and deferrals under way (awaited by stop). */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly wakeTimers = new Map<string, NodeJS.Timeout>();
  private readonly stopping = new AbortController();
  private readonly expireMs: number;
  private wakeups: JobWakeups | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: DeliveryWorkerOptions) {
    const { config, log } = options;
    const guard = options.guard ?? new AddressGuard(config.allowTargets);
    // As many connections per origin as attempts in flight: subscriptions of different tenants often share a
    // receiver's host, and one of them hanging must not leave the others queued behind its connections.
    this.sender = new Sender({ guard, timeoutMs: config.deliveryTimeoutMs, connectionsPerOrigin: config.workerInFlight });
    this.secrets = new SecretCache(options.secretKey);
    this.expireMs = deliveryExpireSeconds(config.deliveryTimeoutMs) * 1000;
    this.share = new FairShare<Fetched>({ inFlight: config.workerInFlight, perSubscription: config.subscriptionInFlight }, (id) => this.caps.get(id));
    this.outcomes = new GroupCommit<Finished>({
      maxItems: GROUP_COMMIT_ITEMS,
      delayMs: GROUP_COMMIT_DELAY_MS,
      commit: (group) => this.commitOutcomes(group),
      retryable: (f, now) => now < f.fetched.fetchedAt + this.expireMs,
      abandon: (group, error) => {
        log.error('delivery outcomes could not be committed; their jobs run again when pg-boss expires them', { err: error, attempts: group.length });
        for (const f of group) this.share.release(f.fetched);
        this.slotsFreed();
      },
      log,
    });
  }

  async start(): Promise<void> {
    const queues: [string, boolean][] = [...DELIVERY_SHARD_QUEUES.map((q): [string, boolean] => [q, false]), ...ORDERED_DELIVERY_QUEUES.map((q): [string, boolean] => [q, true])];
    for (const [queue] of queues) this.bells.set(queue, new Doorbell());
    this.wakeups = await listenForJobs(
      this.options.boss,
      PGBOSS_SCHEMA,
      this.options.log,
      (queue) => this.bells.get(queue)?.ring(),
      () => this.ringAll(),
    );
    for (const [queue, ordered] of queues) this.loops.push(this.fetchLoop(queue, ordered));
    this.sweeper = setInterval(() => this.deferLongHeld(), HOLD_LIMIT_MS / 4);
    this.sweeper.unref();
  }

  /**
   * Stops fetching, hands held jobs back (deferred, due at once, for other
   * workers), lets the attempts in flight finish (each bounded by the
   * delivery timeout) and commits their outcomes.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    this.stopping.abort();
    this.ringAll();
    clearInterval(this.sweeper);
    for (const timer of this.wakeTimers.values()) clearTimeout(timer);
    this.wakeTimers.clear();
    await Promise.all(this.loops);
    await this.wakeups?.close().catch(() => undefined);
    const held = this.share.takeHeld();
    if (held.length) await this.deferHeld(held, true);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.outcomes.drain();
    await this.sender.close();
  }

  private get isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Fetches as slots free up; never dies: a failed fetch is logged and retried with backoff. */
  private async fetchLoop(queue: string, ordered: boolean): Promise<void> {
    const { boss, config, log } = this.options;
    const bell = this.bells.get(queue)!;
    // Below this many free slots, wait for more while attempts are running: fewer, larger fetches and claims.
    const batched = Math.max(1, Math.min(config.workerBatchSize, Math.floor(config.workerInFlight / 16)));
    // A key_strict_fifo fetch is slow next to a plain one (it reads the head of every waiting key), and the slots
    // it reserves stay idle until it returns: the ordered loops together reserve about one batch at a time.
    const orderedBatch = Math.max(1, Math.ceil(config.workerBatchSize / ORDERED_DELIVERY_QUEUES.length));
    // The ordered queues bring one job per key and may take any free slot. With few keys a fetch comes back
    // short: then a loop fetches as soon as one slot is free (the reserve must stay usable). With many keys
    // (keyed subscriptions) fetches come back full, and each one costs, so it waits for a fuller batch, within
    // half the reserve.
    const orderedBatched = Math.max(1, Math.min(batched, orderedBatch, Math.floor(this.share.orderedReserve / 2)));
    let lastFull = false;
    let failures = 0;
    while (!this.isStopping) {
      const least = !ordered ? batched : lastFull ? orderedBatched : 1;
      const want = this.share.reserve(ordered, ordered ? orderedBatch : config.workerBatchSize, least);
      if (want === 0) {
        await bell.wait(this.pollMs());
        continue;
      }
      bell.clear();
      let jobs: DeliveryJob[];
      try {
        // Also on the ordered queue: a keyed subscription has many keys, and its share caps them too.
        const ignoreGroups = this.share.saturated();
        jobs = await boss.fetch<DeliveryJobV1>(queue, { batchSize: want, ignoreGroups });
        failures = 0;
      } catch (error) {
        this.share.unreserve(ordered, want);
        failures++;
        log.warn('delivery fetch failed; retrying', { queue, err: error, failures });
        await pause(Math.min(FETCH_RETRY_MAX_MS, 100 * 2 ** failures), this.stopping.signal);
        continue;
      }
      lastFull = jobs.length === want;
      const fetchedAt = Date.now();
      const fetched: Fetched[] = jobs.map((job) => ({ job, queue, ordered, fetchedAt, subscription: isDeliveryJob(job.data) ? (job.groupId ?? null) : null }));
      await this.refreshCaps(fetched, fetchedAt);
      const start = this.share.admit(fetched, want, ordered);
      this.options.metrics?.jobsHeld.set(this.share.held);
      await this.launch(start);
      if (jobs.length < want) await bell.wait(this.pollMs());
    }
  }

  private pollMs(): number {
    return this.wakeups?.listening ? POLL_MS : POLL_WITHOUT_NOTIFY_MS;
  }

  private ringAll(): void {
    for (const bell of this.bells.values()) bell.ring();
  }

  /** Reads the caps of subscriptions not seen lately, so a fetch is admitted under their current `maxInFlight`. */
  private async refreshCaps(fetched: readonly Fetched[], now: number): Promise<void> {
    const stale = this.caps.stale(
      fetched.filter((f) => f.subscription !== null && !f.ordered).map((f) => f.subscription!),
      now,
    );
    if (stale.length === 0) return;
    try {
      const caps = await webhookSubscriptions.inFlightCaps(this.options.db, stale);
      for (const id of stale) this.caps.set(id, caps.get(id) ?? null, now);
    } catch (error) {
      // The claim fails the same way; until then the previous caps (or the default) apply.
      this.options.log.warn('could not read subscription in-flight caps', { err: error });
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = () => this.pending.delete(work);
    work.then(done, done);
    return work;
  }

  /** Claims jobs that hold slots and starts their attempts, each on its own. */
  private launch(start: Fetched[]): Promise<void> {
    if (start.length === 0) return Promise.resolve();
    return this.track(this.claimAndSend(start));
  }

  private async claimAndSend(start: Fetched[]): Promise<void> {
    let claims: Claim[];
    try {
      claims = await this.claim(start);
    } catch (error) {
      // Not claimed, not completed: pg-boss expires and re-runs them. Their slots are free again, but
      // nothing is started from here, so a database that is down is not hammered by held jobs.
      this.options.log.error('delivery claim failed; the jobs run again when pg-boss expires them', { err: error, jobs: start.length });
      for (const f of start) this.share.release(f);
      return;
    }
    for (const claim of claims) this.track(this.attempt(claim).then((finished) => this.outcomes.add(finished)));
  }

  /** Slots came back: held jobs whose subscription has room start first, then the fetch loops look for more. */
  private slotsFreed(): void {
    if (this.isStopping) return;
    const start = this.share.startable();
    this.options.metrics?.jobsHeld.set(this.share.held);
    if (start.length) void this.launch(start);
    this.ringAll();
  }

  /**
   * Claims the jobs' deliveries. The common case is one statement
   * (`claimDue`); what it leaves out goes through `claimCarefully`. Jobs that
   * need no attempt (unknown shape, superseded by a newer job of the same
   * delivery in the batch, stale, cancelled, deferred) are completed in the
   * claim's last transaction and give their slots back.
   */
  private async claim(batch: readonly Fetched[]): Promise<Claim[]> {
    const { db, log } = this.options;
    const done: Fetched[] = [];
    const wellFormed: Fetched[] = [];
    for (const f of batch) (isDeliveryJob(f.job.data) ? wellFormed : done).push(f);
    if (done.length) log.warn('skipping delivery jobs of an unknown shape', { count: done.length });
    const { newest, older } = newestPerDelivery(wellFormed);
    done.push(...older);
    const byDelivery = new Map(newest.map((f) => [f.job.data.d, f]));
    let rest: Fetched[] = [];
    const due = await db.transaction(async (tx) => {
      const rows = await deliveries.claimDue(tx, newest.map((f) => ({ id: f.job.data.d, attemptCount: f.job.data.a })));
      const claimed = new Set(rows.map((row) => row.id));
      rest = newest.filter((f) => !claimed.has(f.job.data.d));
      if (rest.length === 0) await this.completeJobs(tx, done);
      return rows;
    }, WORKER);
    const claims: Claim[] = due.map((row) => ({ fetched: byDelivery.get(row.id)!, row, waitMs: 0 }));
    let settled = done;
    if (rest.length) {
      try {
        const careful = await this.claimCarefully(rest, done);
        claims.push(...careful.claims);
        settled = careful.settled;
      } catch (error) {
        // The first claims committed and go ahead; these run again when pg-boss expires them.
        log.error('delivery claim failed; the jobs run again when pg-boss expires them', { err: error, jobs: rest.length + done.length });
        settled = [...rest, ...done];
      }
    }
    const now = Date.now();
    for (const { row } of claims) this.caps.set(row.webhookSubscriptionId, row.maxInFlight, now);
    for (const f of settled) this.share.release(f);
    if (settled.length) this.slotsFreed();
    return claims;
  }

  /**
   * Jobs the one-statement claim left out: stale or finished (skipped),
   * subscription no longer enabled (CANCELLED), rate limited (deferred to
   * their slot, or for ordered ones waited for in-process), or claimable
   * after all. Completes these and `done` in its transaction; returns the
   * claims and every job settled without an attempt.
   */
  private async claimCarefully(jobs: readonly Fetched[], done: readonly Fetched[]): Promise<{ claims: Claim[]; settled: Fetched[] }> {
    const { db, metrics } = this.options;
    const rows = await deliveries.forSending(db, jobs.map((f) => f.job.data.d));
    const now = Date.now();
    const candidates: Claim[] = [];
    const settled: Fetched[] = [...done];
    const cancelled: DueDelivery[] = [];
    const deferred: DeliveryJobTarget[] = [];
    for (const fetched of jobs) {
      const { data } = fetched.job;
      const row = rows.get(data.d);
      // Gone (pruned, deleted) or stale (its attempt already happened): nothing to do.
      if (!row || row.attemptCount !== data.a || !CLAIMABLE.has(row.status)) {
        settled.push(fetched);
        continue;
      }
      if (row.subscriptionStatus !== 'ENABLED') {
        cancelled.push(row);
        settled.push(fetched);
        continue;
      }
      let waitMs = 0;
      if (row.rateLimitPerSecond && !data.r) waitMs = this.limiter.reserve(row.webhookSubscriptionId, row.rateLimitPerSecond, now);
      if (waitMs > 0 && !fetched.ordered) {
        deferred.push({
          deliveryId: row.id,
          attemptCount: data.a,
          scheduleIndex: data.s,
          webhookSubscriptionId: row.webhookSubscriptionId,
          ordered: false,
          deferrals: (data.r ?? 0) + 1,
          startAfter: new Date(now + waitMs),
        });
        settled.push(fetched);
        continue;
      }
      candidates.push({ fetched, row, waitMs });
    }
    const claims = await db.transaction(async (tx) => {
      await deliveries.cancelNotEnabled(tx, cancelled);
      await enqueue(this.options.boss, tx, deferred);
      const claimed = await deliveries.markSending(tx, candidates.map((c) => ({ row: c.row, attemptCount: c.fetched.job.data.a })));
      // Not claimed: a retry or replay moved the delivery on meanwhile, and made its own job.
      const lost = candidates.filter((c) => !claimed.has(c.row.id)).map((c) => c.fetched);
      await this.completeJobs(tx, [...settled, ...lost]);
      settled.push(...lost);
      return candidates.filter((c) => claimed.has(c.row.id));
    }, WORKER);
    if (cancelled.length) metrics?.deliveries.inc({ outcome: 'CANCELLED' }, cancelled.length);
    for (const target of deferred) this.wakeAt(queueFor(false, target.deliveryId), target.startAfter!.getTime());
    return { claims, settled };
  }

  /**
   * One attempt; never throws. Anything unexpected (a signing secret that no
   * longer opens, a bug) is a failed INTERNAL attempt on the normal retry
   * schedule, so it cannot take other attempts down with it.
   */
  private async attempt(claim: Claim): Promise<Finished> {
    const { row, fetched } = claim;
    const { data } = fetched.job;
    let requestHeaders: Record<string, string> = {};
    let result: SendResult;
    const startedAt = new Date();
    try {
      if (claim.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, claim.waitMs));
      const now = Date.now();
      result = await traceAttempt(row, data.a + 1, async (traceparent) => {
        const request = buildRequest(row, this.secrets.secretsFor(row, now), this.secrets.headersFor(row), row.eventId, row.body, this.userAgent, now, traceparent);
        requestHeaders = recordedHeaders(request.headers, traceparent !== undefined);
        this.options.metrics?.attemptsInFlight.inc();
        try {
          return await this.sender.send(request);
        } finally {
          this.options.metrics?.attemptsInFlight.dec();
        }
      });
    } catch (error) {
      // The message may come from decryption or a bug: logged without the row's secrets, stored generically.
      this.options.log.error('delivery attempt failed inside hookgraph', { deliveryId: row.id, err: error });
      result = { startedAt, durationMs: Date.now() - startedAt.getTime(), errorKind: 'INTERNAL', error: 'internal error in hookgraph before the request was sent' };
    }
    const outcome = decideOutcome(result, this.options.config.retrySchedule, data.s, Date.now());
    return { fetched, row, claimedCount: data.a, requestHeaders, result, outcome };
  }

  /** One group commit: attempts, outcomes, health, retry jobs and the completion of the group's jobs, in one transaction. */
  private async commitOutcomes(group: Finished[]): Promise<void> {
    const { db, config } = this.options;
    const applied = await db.transaction(async (tx) => {
      const written = await recordAttempts(tx, group, config.disableAfterMs);
      const failed = await this.scheduleRetries(tx, written);
      await this.completeJobs(tx, group.filter((f) => !failed.has(f)).map((f) => f.fetched));
      return written;
    }, WORKER);
    this.afterCommit(group, applied);
  }

  private afterCommit(group: readonly Finished[], applied: readonly AppliedAttempt<Finished>[]): void {
    const { log, metrics } = this.options;
    if (applied.length < group.length) log.info('attempts recorded without changing their delivery (deleted, or taken over after the job expired)', { count: group.length - applied.length });
    for (const f of group) this.share.release(f.fetched);
    for (const { attempt } of applied) if (attempt.outcome.nextAttemptAt) this.wakeAt(attempt.fetched.queue, attempt.outcome.nextAttemptAt.getTime());
    const recordedAt = Date.now();
    for (const { attempt } of applied) {
      metrics?.deliveries.inc({ outcome: attempt.outcome.status });
      if (attempt.outcome.status === 'SUCCEEDED') metrics?.deliveryLatency.observe(Math.max(0, recordedAt - attempt.row.publishedAt.getTime()) / 1000);
    }
    for (const attempt of group) metrics?.attemptDuration.observe({ result: attempt.result.errorKind ? 'failure' : 'success' }, attempt.result.durationMs / 1000);
    if (log.debugEnabled) {
      const attemptNumbers = new Map(applied.map(({ attempt, attemptNumber }) => [attempt, attemptNumber]));
      for (const attempt of group) logAttempt(log, attempt, attemptNumbers.get(attempt));
    }
    // Also the ordered queue's next job per key, now that this one is settled.
    this.slotsFreed();
  }

  /** Completes jobs inside `tx`, fenced to the attempt this worker fetched (a job re-run elsewhere is left alone). */
  private async completeJobs(tx: Tx, done: readonly Fetched[]): Promise<void> {
    const byQueue = new Map<string, JobAttempt[]>();
    for (const { queue, job } of done) {
      let list = byQueue.get(queue);
      if (!list) byQueue.set(queue, (list = []));
      list.push({ id: job.id, retryCount: job.retryCount });
    }
    for (const [name, jobs] of byQueue) await this.options.boss.complete(name, jobs, null, { db: tx.jobs });
  }

  /**
   * Unordered deliveries get a fresh job for their next attempt. Ordered ones
   * must keep their place at the head of their key, so their own job goes to
   * pg-boss's retry state (which holds the key) with the new start time.
   * Returns the attempts whose job was failed that way (not to be completed).
   */
  private async scheduleRetries(tx: Tx, applied: readonly AppliedAttempt<Finished>[]): Promise<Set<Finished>> {
    const retrying = applied.filter(({ attempt }) => attempt.outcome.nextAttemptAt);
    const { boss } = this.options;
    await enqueue(
      boss,
      tx,
      retrying
        .filter(({ attempt }) => !attempt.fetched.ordered)
        .map(({ attempt: f, attemptNumber }) => ({
          deliveryId: f.row.id,
          attemptCount: attemptNumber,
          scheduleIndex: f.outcome.nextScheduleIndex!,
          webhookSubscriptionId: f.row.webhookSubscriptionId,
          ordered: false,
          startAfter: f.outcome.nextAttemptAt!,
        })),
    );
    const failed = new Set<Finished>();
    for (const { attempt: f, attemptNumber } of retrying) {
      if (!f.fetched.ordered) continue;
      const { job } = f.fetched;
      const db = tx.jobs;
      await boss.fail(f.fetched.queue, { id: job.id, retryCount: job.retryCount }, { error: f.outcome.lastError }, { db });
      const data: DeliveryJobV1 = { v: 1, d: f.row.id, a: attemptNumber, s: f.outcome.nextScheduleIndex! };
      await boss.update(f.fetched.queue, data, { id: job.id, startAfter: f.outcome.nextAttemptAt!, db });
      failed.add(f);
    }
    return failed;
  }

  /** Held jobs that waited too long for their subscription's share go back to the queue before their expiry. */
  private deferLongHeld(): void {
    const expired = this.share.expired(Date.now() - HOLD_LIMIT_MS);
    if (expired.length) void this.track(this.deferHeld(expired, false));
  }

  /**
   * Replaces held jobs by deferred ones (the rate limit's mechanism: a new job
   * with the deferral count raised, the held one completed, in one
   * transaction). `dueNow` when stopping, so other workers take them at once.
   */
  private async deferHeld(held: readonly Fetched[], dueNow: boolean): Promise<void> {
    this.options.metrics?.jobsHeld.set(this.share.held);
    const now = Date.now();
    const targets: DeliveryJobTarget[] = held.map(({ job, subscription }) => {
      const deferrals = (job.data.r ?? 0) + 1;
      return {
        deliveryId: job.data.d,
        attemptCount: job.data.a,
        scheduleIndex: job.data.s,
        webhookSubscriptionId: subscription!,
        ordered: false,
        deferrals,
        startAfter: new Date(now + (dueNow ? 0 : HOLD_DEFER_MS * 2 ** Math.min(4, deferrals - 1))),
      };
    });
    try {
      await this.options.db.transaction(async (tx) => {
        await enqueue(this.options.boss, tx, targets);
        await this.completeJobs(tx, held);
      }, WORKER);
    } catch (error) {
      this.options.log.warn('could not defer held delivery jobs; they run again when pg-boss expires them', { err: error, jobs: held.length });
      return;
    }
    for (const target of targets) this.wakeAt(queueFor(false, target.deliveryId), target.startAfter!.getTime());
  }

  /**
   * pg-boss only announces jobs that are due at insert time; a retry due in
   * 200 ms would otherwise wait for the next poll. Wakes this worker's fetch
   * loop when it falls due (other processes still find it by polling).
   */
  private wakeAt(queue: string, at: number): void {
    const bell = this.bells.get(queue);
    const delay = at - Date.now();
    if (!bell || delay > 60_000 || this.isStopping) return;
    const bucket = Math.ceil(at / 50) * 50;
    const key = `${queue}:${bucket}`;
    if (this.wakeTimers.has(key)) return;
    const timer = setTimeout(() => {
      this.wakeTimers.delete(key);
      bell.ring();
    }, Math.max(0, bucket - Date.now()) + 10);
    timer.unref();
    this.wakeTimers.set(key, timer);
  }
}

/** One `debug` line per attempt: ids, status and timing only (the URL and headers may carry secrets). */
function logAttempt(log: Logger, { row, result, outcome }: Finished, attemptNumber: number | undefined): void {
  log.debug('delivery attempt', {
    tenantId: row.tenantId,
    webhookSubscriptionId: row.webhookSubscriptionId,
    deliveryId: row.id,
    eventId: row.eventId,
    attemptNumber: attemptNumber ?? null,
    responseStatus: result.status ?? null,
    errorKind: result.errorKind ?? null,
    durationMs: result.durationMs,
    // Not applied: the delivery was deleted or taken over meanwhile; the attempt is still recorded.
    outcome: attemptNumber === undefined ? null : outcome.status,
  });
}

/**
 * One job per delivery: a fetch can hold an expired job's re-run next to the
 * delivery's newer job. Attempt counts only grow, so the job with the higher
 * count (then the later deferral) is the only one that can be current; the
 * others are settled as stale.
 */
function newestPerDelivery(jobs: readonly Fetched[]): { newest: Fetched[]; older: Fetched[] } {
  const newest = new Map<string, Fetched>();
  for (const f of jobs) {
    const seen = newest.get(f.job.data.d);
    const { a, r = 0 } = f.job.data;
    if (!seen || a > seen.job.data.a || (a === seen.job.data.a && r > (seen.job.data.r ?? 0))) newest.set(f.job.data.d, f);
  }
  if (newest.size === jobs.length) return { newest: [...jobs], older: [] };
  const kept = new Set(newest.values());
  return { newest: [...kept], older: jobs.filter((f) => !kept.has(f)) };
}
