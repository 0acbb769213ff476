import type { Job, JobAttempt, PgBoss } from 'pg-boss';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { AddressGuard } from './address-guard.js';
import { databaseClockMs, type Db, type Tx } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import { CLAIMABLE, type DueDelivery } from '../store/deliveries.js';
import * as queueJobs from '../store/queue.js';
import * as webhookSubscriptions from '../store/webhook-subscriptions.js';
import type { HealthPolicy } from '../store/webhook-subscriptions.js';
import { circuitPolicy, probeDue, probeOutcome, waitUntil, type CircuitPolicy } from './circuit.js';
import { Doorbell, pause } from './doorbell.js';
import { CapCache, FairShare, type Shared } from './fair-share.js';
import { GroupCommit } from './group-commit.js';
import { listenForJobs, type JobWakeups } from './job-wakeups.js';
import {
  BATCH_MAX,
  DELIVERY_QUEUES,
  DELIVERY_SHARD_QUEUES,
  ORDERED_DELIVERY_QUEUES,
  enqueue,
  isDeliveryBatchJob,
  isDeliveryJob,
  memberJob,
  queueFor,
  type DeliveryBatchJobV1,
  type DeliveryJobTarget,
  type DeliveryJobV1,
} from './jobs.js';
import type { Metrics } from './metrics.js';
import { decideOutcome } from './outcome.js';
import { operationalEvents } from './operational.js';
import { Publisher } from './publish.js';
import { PGBOSS_SCHEMA } from '../store/queue.js';
import { deliveryExpireSeconds } from './queue.js';
import { DatabaseClock, slotsOf, type Slot } from './rate-limit.js';
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
  metrics: Metrics;
  /** Defaults to a guard built from HOOKGRAPH_ALLOW_TARGETS (tests pass one with a fake resolver). */
  guard?: AddressGuard;
  /** Publishes the operational events of group commits; defaults to one of the worker's own. */
  publisher?: Publisher;
}

/** Worker bookkeeping (claims, outcomes) commits without waiting for the WAL flush: see TransactionOptions.durable. */
const WORKER = { durable: false } as const;
/** Claims lock subscription rows (rate-limit slots, circuits) that group commits of other workers lock too: a deadlock between them is retried. */
const CLAIM = { ...WORKER, conflictRetries: 3 } as const;
/** A group commit holds at most this many outcomes… */
const GROUP_COMMIT_ITEMS = 200;
/** …and the first of them waits at most this long for others to join it. */
const GROUP_COMMIT_DELAY_MS = 3;
/** A job held for its subscription's share this long is deferred: well inside the 5 s its expiry allows beyond the delivery timeout. */
const HOLD_LIMIT_MS = 2_000;
/** A deferred held job is due again after this, doubling with each deferral of the attempt up to 16×. */
const HOLD_DEFER_MS = 1_000;
/** A rate-limited delivery whose slot is this close is claimed and waits for it in-process; a later one is deferred to this long before its slot. */
const RATE_SLOT_LEAD_MS = 300;
/** A deferred job fetched this long after its slot takes a new slot instead. */
const RATE_SLOT_LATE_MS = 50;
/** Polling backstop: NOTIFY (or a freed slot, or a retry falling due) usually wakes a fetch loop first. */
const POLL_MS = 2_000;
const POLL_WITHOUT_NOTIFY_MS = 500;
const FETCH_RETRY_MAX_MS = 5_000;

type DeliveryJob = Job<DeliveryJobV1>;

/**
 * A job this worker fetched, or one delivery of a batch job; from then on it
 * holds a slot (or is held) until it is settled.
 */
interface Fetched extends Shared {
  /** For a batch member: the batch job with the member's own `data`. */
  job: DeliveryJob;
  queue: string;
  batch?: Batch;
}

/**
 * A fetched batch job (`DeliveryBatchJobV1`): completed in the transaction
 * that settles its last open member, or, when its last members were settled
 * by transactions that overlapped, in one of its own right after.
 */
interface Batch {
  job: Job<unknown>;
  queue: string;
  /** Members not yet settled by a committed transaction. */
  open: number;
  /** Members being settled by transactions not over yet. */
  settling: number;
  /** Completed, or being completed by a transaction not over yet. */
  completing: boolean;
}

interface Claim {
  fetched: Fetched;
  row: DueDelivery;
  /** Wait before sending (a rate-limit slot soon, or an ordered delivery's slot). */
  waitMs: number;
  /** The rate-limit slot it waits for (epoch ms): the wait is counted from the claim's commit. */
  slotAt?: number;
  /** The probe of its subscription's open circuit. */
  probe: boolean;
  /** A probe's: when the next probe is due should this one fail. */
  nextProbeAt?: Date;
}

/** A job of an open circuit that waits, without an attempt, until `until`. */
interface CircuitWait {
  fetched: Fetched;
  row: DueDelivery;
  until: Date;
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
  private readonly userAgent = USER_AGENT;
  private readonly caps = new CapCache();
  /** Rate-limit slots are on the database's clock; this converts them to this process's timers. */
  private readonly clock = new DatabaseClock();
  private readonly share: FairShare<Fetched>;
  private readonly outcomes: GroupCommit<Finished>;
  private readonly bells = new Map<string, Doorbell>();
  private readonly loops: Promise<void>[] = [];
  /** Claims, attempts and deferrals under way (awaited by stop). */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly wakeTimers = new Map<string, NodeJS.Timeout>();
  private readonly stopping = new AbortController();
  private readonly expireMs: number;
  private readonly publisher: Publisher;
  private readonly circuit: CircuitPolicy;
  private readonly health: HealthPolicy;
  private wakeups: JobWakeups | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;
  /**
   * Deliveries per fetched job lately (batch jobs hold several): sizes fetches to the free slots.
   * Starts at a full batch: fetching too little costs another fetch, too much a hold and deferral.
   */
  private membersPerJob = BATCH_MAX;

  constructor(private readonly options: DeliveryWorkerOptions) {
    const { config, log } = options;
    const guard = options.guard ?? new AddressGuard(config.allowTargets);
    // As many connections per origin as attempts in flight: subscriptions of different tenants often share a
    // receiver's host, and one of them hanging must not leave the others queued behind its connections.
    this.sender = new Sender({ guard, timeoutMs: config.deliveryTimeoutMs, connectionsPerOrigin: config.workerInFlight });
    this.secrets = new SecretCache(options.secretKey);
    this.publisher = options.publisher ?? new Publisher({ config, db: options.db, boss: options.boss, metrics: options.metrics });
    this.expireMs = deliveryExpireSeconds(config.deliveryTimeoutMs) * 1000;
    this.circuit = circuitPolicy(config);
    this.health = { disableAfterMs: config.disableAfterMs, circuit: this.circuit };
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
    this.clock.observe(await databaseClockMs(this.options.db));
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
    // Batch jobs whose last members were settled by the last group commits.
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
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
      let jobs: Job<DeliveryJobV1 | DeliveryBatchJobV1>[];
      // Batch jobs bring several deliveries each; what a fetch brings beyond the free slots is held.
      const batchSize = ordered ? want : Math.max(1, Math.min(want, Math.round(want / this.membersPerJob)));
      try {
        // Also on the ordered queues: a keyed subscription has many keys, and its share caps them too.
        const ignoreGroups = this.share.saturated();
        jobs = await boss.fetch<DeliveryJobV1 | DeliveryBatchJobV1>(queue, { batchSize, ignoreGroups });
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
      const fetched = expand(jobs, queue, ordered, fetchedAt);
      if (jobs.length > 0 && !ordered) this.membersPerJob = (this.membersPerJob + fetched.length / jobs.length) / 2;
      await this.refreshCaps(fetched, fetchedAt);
      const start = this.share.admit(fetched, want, ordered);
      this.options.metrics.jobsHeld.set(this.share.held);
      await this.launch(start);
      if (jobs.length < batchSize) await bell.wait(this.pollMs());
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
    this.options.metrics.jobsHeld.set(this.share.held);
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
    const claims: Claim[] = due.map((row) => ({ fetched: byDelivery.get(row.id)!, row, waitMs: 0, probe: false }));
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
   * subscription no longer enabled (CANCELLED), circuit open (one of them
   * per subscription may take the probe; the others wait, see circuit.ts),
   * rate limited (a slot from the shared budget: sent at once if it is soon,
   * else deferred to it, or for ordered ones waited for in-process), or
   * claimable after all. Completes these and `done` in its transaction
   * (ordered jobs that wait are moved instead); returns the claims and every
   * job settled without an attempt. The transaction can run again (a
   * deadlock with another worker's claim or group commit is retried).
   */
  private async claimCarefully(jobs: readonly Fetched[], done: readonly Fetched[]): Promise<{ claims: Claim[]; settled: Fetched[] }> {
    const { db, metrics } = this.options;
    const rows = await deliveries.forSending(db, jobs.map((f) => f.job.data.d));
    const candidates: Claim[] = [];
    const skipped: Fetched[] = [...done];
    const cancelled: DueDelivery[] = [];
    /** Rate limited and without a slot yet, in batch order. */
    const limited: Claim[] = [];
    /** Rows of subscriptions whose circuit was open when read; what they do is decided in the transaction. */
    const open: { fetched: Fetched; row: DueDelivery }[] = [];
    for (const fetched of jobs) {
      const { data } = fetched.job;
      const row = rows.get(data.d);
      // Gone (pruned, deleted) or stale (its attempt already happened): nothing to do.
      if (!row || row.attemptCount !== data.a || !CLAIMABLE.has(row.status)) {
        skipped.push(fetched);
        continue;
      }
      if (row.subscriptionStatus !== 'ENABLED') {
        cancelled.push(row);
        skipped.push(fetched);
        continue;
      }
      if (row.circuitOpenedAt) {
        open.push({ fetched, row });
        continue;
      }
      // A job with its slot comes back a little early and waits for the slot once claimed (see `t`); one that
      // comes back after its slot has passed takes a new one, so late sends do not bunch up.
      const hasSlot = data.k === 1 && (data.t === undefined || data.t > this.clock.now() - RATE_SLOT_LATE_MS);
      (row.rateLimitPerSecond && !hasSlot ? limited : candidates).push({ fetched, row, waitMs: 0, probe: false, slotAt: row.rateLimitPerSecond && hasSlot ? data.t : undefined });
    }
    const { claims, settled, deferred, waited, slotWakes, cancelledCount } = await db.transaction(async (tx) => {
      const settled: Fetched[] = [...skipped];
      const deferred: { target: DeliveryJobTarget; waitMs: number }[] = [];
      /** Ordered jobs moved to their rate-limit slot (their job is kept, not completed), and when to fetch them. */
      const movedToSlot: Fetched[] = [];
      const slotWakes: { queue: string; waitMs: number }[] = [];
      const ready: Claim[] = [...candidates];
      // Open circuits first, locked before any delivery row (as a group commit takes the subscriptions first),
      // so what is decided here is current: a circuit closing meanwhile waits for this transaction and then
      // pulls forward the jobs made here; one closed just before is seen closed.
      // With rate-limited subscriptions in the batch too, theirs are locked in the same statement, in one id order
      // (two statements each in id order could deadlock with another worker's claim taking them the other way).
      const circuits = await webhookSubscriptions.lockCircuits(
        tx,
        open.length ? [...open.map((o) => o.row.webhookSubscriptionId), ...limited.map((c) => c.row.webhookSubscriptionId)] : [],
      );
      // One statement for every rate-limited subscription of the batch; its rows stay locked until this commits.
      const slots = await this.reserveSlots(tx, limited);
      for (const claim of limited) {
        const { row, fetched } = claim;
        const slot = slots.get(row.webhookSubscriptionId)?.shift();
        // No slot: the subscription lost its rate limit (or was deleted) since it was read.
        // A slot soon is waited for here; a later one gets a job that starts just before it. An ordered job
        // keeps the head of its key: it is moved there in pg-boss's retry state, as for a retry.
        if (slot && slot.waitMs > RATE_SLOT_LEAD_MS && fetched.ordered) {
          const { data } = fetched.job;
          await this.holdOrdered(tx, fetched, { ...data, r: (data.r ?? 0) + 1, k: 1, t: slot.at.getTime() }, new Date(slot.at.getTime() - RATE_SLOT_LEAD_MS), null);
          slotWakes.push({ queue: fetched.queue, waitMs: slot.waitMs - RATE_SLOT_LEAD_MS });
          movedToSlot.push(fetched);
          continue;
        }
        if (slot && slot.waitMs > RATE_SLOT_LEAD_MS) {
          deferred.push({
            target: deferral(fetched.job, row.webhookSubscriptionId, { keepsSlot: true, slotAt: slot.at, startAfter: new Date(slot.at.getTime() - RATE_SLOT_LEAD_MS) }),
            waitMs: slot.waitMs - RATE_SLOT_LEAD_MS,
          });
          settled.push(fetched);
          continue;
        }
        ready.push({ ...claim, waitMs: slot?.waitMs ?? 0, slotAt: slot?.at.getTime() });
      }
      const at = Date.now();
      const waiting: CircuitWait[] = [];
      const probes = new Map<string, Claim>();
      const behind: { fetched: Fetched; row: DueDelivery }[] = [];
      for (const { fetched, row } of open) {
        const circuit = circuits.get(row.webhookSubscriptionId);
        const subscription = row.webhookSubscriptionId;
        // Closed meanwhile: due at once (the next fetch claims it as usual).
        if (!circuit?.circuitOpenedAt) waiting.push({ fetched, row, until: new Date(at) });
        else if (!probeDue(circuit, at)) waiting.push({ fetched, row, until: waitUntil(circuit, at, this.circuit.probeBaseMs) });
        else if (probes.has(subscription)) behind.push({ fetched, row });
        else probes.set(subscription, { fetched, row, waitMs: 0, probe: true });
      }
      // Fenced: fewer may be cancelled than were read (moved on by another worker); those are counted.
      const cancelledCount = (await deliveries.cancelNotEnabled(tx, cancelled)).size;
      await enqueue(this.options.boss, tx, deferred.map((d) => d.target));
      // Probes are taken before anything is marked SENDING, so a claim that does not win its probe only waits
      // (it is never announced SENDING), and only a delivery still due (locked until this commits) takes one.
      const probing = [...probes.values()];
      const due = await deliveries.lockDue(tx, probing.map((c) => ({ row: c.row, attemptCount: c.fetched.job.data.a })));
      const tries = probing.filter((c) => due.has(c.row.id));
      // Conditional as well: whatever the locks, only one claim can take a probe.
      const taken = await webhookSubscriptions.takeProbes(tx, tries.map((c) => ({ id: c.row.webhookSubscriptionId, deliveryId: c.row.id })), this.circuit);
      for (const c of tries) c.nextProbeAt = taken.get(c.row.webhookSubscriptionId);
      const notTaken = tries.filter((c) => !taken.has(c.row.webhookSubscriptionId)).map((c) => ({ fetched: c.fetched, row: c.row }));
      const claimable = [...ready, ...tries.filter((c) => taken.has(c.row.webhookSubscriptionId))];
      const claimed = await deliveries.markSending(tx, claimable.map((c) => ({ row: c.row, attemptCount: c.fetched.job.data.a })));
      // Not claimed: a retry or replay moved the delivery on meanwhile, and made its own job.
      const lost = [...claimable.filter((c) => !claimed.has(c.row.id)), ...probing.filter((c) => !due.has(c.row.id))].map((c) => c.fetched);
      // Those behind a probe wait for the one after it (its time was set by the take).
      for (const { fetched, row } of [...behind, ...notTaken]) {
        const next = taken.get(row.webhookSubscriptionId);
        waiting.push({ fetched, row, until: next ?? waitUntil(circuits.get(row.webhookSubscriptionId)!, at, this.circuit.probeBaseMs) });
      }
      const waited = await this.waitForCircuit(tx, waiting);
      await this.completeJobs(tx, [...settled, ...lost, ...waited.complete]);
      settled.push(...lost, ...waited.complete, ...waited.moved, ...movedToSlot);
      return { claims: claimable.filter((c) => claimed.has(c.row.id)), settled, deferred, waited, slotWakes, cancelledCount };
    }, CLAIM);
    if (cancelledCount) metrics.deliveries.inc({ outcome: 'CANCELLED' }, cancelledCount);
    // The slot is on the database's clock; this process's timer counts the wait from now.
    const now = Date.now();
    for (const claim of claims) if (claim.slotAt !== undefined) claim.waitMs = this.clock.untilMs(claim.slotAt, now);
    for (const { target, waitMs } of deferred) this.wakeAt(queueFor(false, target.deliveryId), now + waitMs);
    for (const { queue, waitMs } of slotWakes) this.wakeAt(queue, now + waitMs);
    for (const { queue, at } of waited.wakes) this.wakeAt(queue, at);
    return { claims, settled };
  }

  /** Reserves a slot for each of these claims from their subscriptions' shared budgets; per subscription, earliest first. */
  private async reserveSlots(tx: Tx, limited: readonly Claim[]): Promise<Map<string, Slot[]>> {
    const counts = new Map<string, number>();
    for (const { row } of limited) counts.set(row.webhookSubscriptionId, (counts.get(row.webhookSubscriptionId) ?? 0) + 1);
    const reservations = await webhookSubscriptions.reserveSendSlots(tx, counts);
    const reading = reservations.values().next().value;
    if (reading) this.clock.observe(reading.nowUs / 1000);
    return new Map([...reservations].map(([id, reservation]) => [id, slotsOf(reservation, counts.get(id)!)]));
  }

  /**
   * Deliveries of open circuits wait, without an attempt, until their
   * `until`: RETRYING with that next attempt time and the attempt count
   * unchanged. An unordered one gets a new job due then (deferral count
   * raised, marked as waiting for the circuit); an ordered one's job is moved
   * there in pg-boss's retry state, like a retry, so it keeps the head of its
   * key. Returns the jobs to complete (replaced, or stale), the jobs moved,
   * and when to wake the fetch loops.
   */
  private async waitForCircuit(tx: Tx, waiting: readonly CircuitWait[]): Promise<{ complete: Fetched[]; moved: Fetched[]; wakes: { queue: string; at: number }[] }> {
    const result = { complete: [] as Fetched[], moved: [] as Fetched[], wakes: [] as { queue: string; at: number }[] };
    if (waiting.length === 0) return result;
    const waits = await deliveries.waitForCircuit(tx, waiting.map((w) => ({ row: w.row, attemptCount: w.fetched.job.data.a, until: w.until })));
    const replaced: DeliveryJobTarget[] = [];
    for (const { fetched, row, until } of waiting) {
      const { data } = fetched.job;
      if (!waits.has(row.id)) {
        result.complete.push(fetched);
        continue;
      }
      result.wakes.push({ queue: fetched.queue, at: until.getTime() });
      if (fetched.ordered) {
        await this.holdOrdered(tx, fetched, { ...data, r: (data.r ?? 0) + 1, c: 1 }, until, 'waiting for the circuit to close');
        result.moved.push(fetched);
        continue;
      }
      replaced.push(deferral(fetched.job, row.webhookSubscriptionId, { circuit: true, startAfter: until }));
      result.complete.push(fetched);
    }
    await enqueue(this.options.boss, tx, replaced);
    return result;
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
        this.options.metrics.attemptsInFlight.inc();
        try {
          return await this.sender.send(request);
        } finally {
          this.options.metrics.attemptsInFlight.dec();
        }
      });
    } catch (error) {
      // The message may come from decryption or a bug: logged without the row's secrets, stored generically.
      this.options.log.error('delivery attempt failed inside hookgraph', { deliveryId: row.id, err: error });
      result = { startedAt, durationMs: Date.now() - startedAt.getTime(), errorKind: 'INTERNAL', error: 'internal error in hookgraph before the request was sent' };
    }
    let outcome = decideOutcome(result, row.retrySchedule ?? this.options.config.retrySchedule, data.s, Date.now());
    if (claim.probe) outcome = probeOutcome(outcome, data.s, claim.nextProbeAt, Date.now(), this.circuit);
    return { fetched, row, claimedCount: data.a, requestHeaders, result, outcome, probe: claim.probe };
  }

  /**
   * One group commit: attempts, outcomes, health, retry jobs and the
   * completion of the group's jobs, in one transaction; the jobs of circuits
   * it closed are pulled forward in it too.
   */
  private async commitOutcomes(group: Finished[]): Promise<void> {
    const { db } = this.options;
    const { applied, pulled } = await db.transaction(async (tx) => {
      const recorded = await recordAttempts(tx, group, this.health);
      const failed = await this.scheduleRetries(tx, recorded.applied);
      // In the same transaction as the changes they report: both commit, or neither.
      await this.publisher.publishOperational(tx, operationalEvents(recorded));
      await this.completeJobs(tx, group.filter((f) => !failed.has(f)).map((f) => f.fetched));
      const pulled = await queueJobs.pullForward(tx, recorded.circuits.closed.map((c) => c.id), DELIVERY_QUEUES);
      await deliveries.attemptsNow(tx, pulled);
      return { applied: recorded.applied, pulled };
    }, WORKER);
    this.afterCommit(group, applied);
    if (pulled.length) this.ringAll();
  }

  private afterCommit(group: readonly Finished[], applied: readonly AppliedAttempt<Finished>[]): void {
    const { log, metrics } = this.options;
    if (applied.length < group.length) log.info('attempts recorded without changing their delivery (deleted, or taken over after the job expired)', { count: group.length - applied.length });
    for (const f of group) this.share.release(f.fetched);
    for (const { attempt } of applied) if (attempt.outcome.nextAttemptAt) this.wakeAt(attempt.fetched.queue, attempt.outcome.nextAttemptAt.getTime());
    const recordedAt = Date.now();
    for (const { attempt } of applied) {
      metrics.deliveries.inc({ outcome: attempt.outcome.status });
      if (attempt.outcome.status === 'SUCCEEDED') metrics.deliveryLatency.observe(Math.max(0, recordedAt - attempt.row.publishedAt.getTime()) / 1000);
    }
    for (const attempt of group) metrics.attemptDuration.observe({ result: attempt.result.errorKind ? 'failure' : 'success' }, attempt.result.durationMs / 1000);
    if (log.debugEnabled) {
      const attemptNumbers = new Map(applied.map(({ attempt, attemptNumber }) => [attempt, attemptNumber]));
      for (const attempt of group) logAttempt(log, attempt, attemptNumbers.get(attempt));
    }
    // Also the ordered queue's next job per key, now that this one is settled.
    this.slotsFreed();
  }

  /**
   * Completes jobs inside `tx`, fenced to the attempt this worker fetched (a
   * job re-run elsewhere is left alone). Batch members settle their batch: its
   * job is completed with the last open member, only once that member's
   * transaction commits (see `Batch`), so a crash before leaves it to run
   * again, its settled members then skipped as stale or finished.
   */
  private async completeJobs(tx: Tx, done: readonly Fetched[]): Promise<void> {
    const byQueue = new Map<string, JobAttempt[]>();
    const add = (queue: string, job: Job<unknown>) => {
      let list = byQueue.get(queue);
      if (!list) byQueue.set(queue, (list = []));
      list.push({ id: job.id, retryCount: job.retryCount });
    };
    const members = new Map<Batch, number>();
    for (const f of done) {
      if (f.batch) members.set(f.batch, (members.get(f.batch) ?? 0) + 1);
      else add(f.queue, f.job);
    }
    for (const [batch, count] of members) {
      batch.settling += count;
      const completes = !batch.completing && count === batch.open;
      if (completes) {
        batch.completing = true;
        add(batch.queue, batch.job);
      }
      tx.onSettled((committed) => {
        batch.settling -= count;
        if (committed) batch.open -= count;
        else if (completes) batch.completing = false;
        if (batch.open === 0 && !batch.completing) this.completeBatch(batch);
      });
    }
    for (const [name, jobs] of byQueue) await this.options.boss.complete(name, jobs, null, { db: tx.jobs });
  }

  /** A batch whose last members were settled by overlapping transactions: completed on its own. */
  private completeBatch(batch: Batch): void {
    batch.completing = true;
    const { job } = batch;
    const done = this.options.db
      .transaction((tx) => this.options.boss.complete(batch.queue, [{ id: job.id, retryCount: job.retryCount }], null, { db: tx.jobs }), WORKER)
      .catch((error: unknown) => this.options.log.warn('could not complete a settled batch job; it runs again when pg-boss expires it, its deliveries skipped', { err: error }));
    void this.track(done);
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
      await this.holdOrdered(tx, f.fetched, { v: 1, d: f.row.id, a: attemptNumber, s: f.outcome.nextScheduleIndex! }, f.outcome.nextAttemptAt!, f.outcome.lastError);
      failed.add(f);
    }
    return failed;
  }

  /** An ordered job waits for `startAfter` in pg-boss's retry state (which keeps the head of its key), carrying `data` from then on. */
  private async holdOrdered(tx: Tx, fetched: Fetched, data: DeliveryJobV1, startAfter: Date, error: string | null): Promise<void> {
    const { boss } = this.options;
    const { job } = fetched;
    const db = tx.jobs;
    await boss.fail(fetched.queue, { id: job.id, retryCount: job.retryCount }, { error }, { db });
    await boss.update(fetched.queue, data, { id: job.id, startAfter, db });
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
   * A job keeps a rate-limit slot only if it had one: held jobs were never
   * claimed, so most reserve theirs when they come back.
   */
  private async deferHeld(held: readonly Fetched[], dueNow: boolean): Promise<void> {
    this.options.metrics.jobsHeld.set(this.share.held);
    const now = Date.now();
    const targets: DeliveryJobTarget[] = held.map(({ job, subscription }) =>
      deferral(job, subscription!, {
        keepsSlot: job.data.k === 1,
        slotAt: job.data.t === undefined ? undefined : new Date(job.data.t),
        startAfter: new Date(this.clock.now(now) + (dueNow ? 0 : HOLD_DEFER_MS * 2 ** Math.min(4, job.data.r ?? 0))),
      }),
    );
    try {
      await this.options.db.transaction(async (tx) => {
        await enqueue(this.options.boss, tx, targets);
        await this.completeJobs(tx, held);
      }, WORKER);
    } catch (error) {
      this.options.log.warn('could not defer held delivery jobs; they run again when pg-boss expires them', { err: error, jobs: held.length });
      return;
    }
    // startAfter is on the database's clock (pg-boss compares it with now()); the wake-up timer runs on this process's.
    for (const target of targets) this.wakeAt(queueFor(false, target.deliveryId), Date.now() + this.clock.untilMs(target.startAfter!.getTime()));
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

/** The job of a deferred attempt: the same attempt of an unordered delivery, its deferral count raised (a new job id). */
function deferral(job: DeliveryJob, webhookSubscriptionId: string, target: Pick<DeliveryJobTarget, 'keepsSlot' | 'slotAt' | 'circuit'> & { startAfter: Date }): DeliveryJobTarget {
  const { data } = job;
  return { deliveryId: data.d, attemptCount: data.a, scheduleIndex: data.s, webhookSubscriptionId, ordered: false, deferrals: (data.r ?? 0) + 1, ...target };
}

/** Fetched jobs as the deliveries they carry: one each, or a batch job's members. */
function expand(jobs: readonly Job<DeliveryJobV1 | DeliveryBatchJobV1>[], queue: string, ordered: boolean, fetchedAt: number): Fetched[] {
  const out: Fetched[] = [];
  for (const job of jobs) {
    const { data } = job;
    if (isDeliveryBatchJob(data)) {
      const batch: Batch = { job, queue, open: data.b.length, settling: 0, completing: false };
      for (const id of data.b) out.push({ job: { ...job, data: memberJob(id) }, queue, ordered, fetchedAt, subscription: job.groupId ?? null, batch });
    } else {
      out.push({ job: job as DeliveryJob, queue, ordered, fetchedAt, subscription: isDeliveryJob(data) ? (job.groupId ?? null) : null });
    }
  }
  return out;
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
