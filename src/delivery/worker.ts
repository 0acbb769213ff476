import type { Job, PgBoss } from 'pg-boss';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { AddressGuard } from './address-guard.js';
import type { Db, Tx } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import { CLAIMABLE, type DueDelivery } from '../store/deliveries.js';
import { DELIVERY_SHARDS, DELIVERY_SHARD_QUEUES, ORDERED_DELIVERY_QUEUE, enqueue, isDeliveryJob, queueFor, type DeliveryJobTarget, type DeliveryJobV1 } from './jobs.js';
import type { Metrics } from './metrics.js';
import { decideOutcome } from './outcome.js';
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

type DeliveryJob = Job<DeliveryJobV1>;
/** Worker bookkeeping (claims, outcomes) commits without waiting for the WAL flush: see TransactionOptions.durable. */
const WORKER = { durable: false } as const;
type Finished = FinishedAttempt & { job: DeliveryJob };
interface Claim {
  job: DeliveryJob;
  row: DueDelivery;
  /** Wait before sending (ordered deliveries under a rate limit wait in-process). */
  waitMs: number;
}

/**
 * Pulls delivery jobs in batches and runs each batch through: load → claim
 * (SENDING) → send concurrently → record attempts and outcomes in one
 * transaction (with the retry jobs) → pg-boss completes the batch. A crash at
 * any point leaves jobs active; pg-boss expires and re-runs them, and the
 * attempt-count fence in the job makes re-runs of finished attempts no-ops.
 */
export class DeliveryWorker {
  private readonly sender: Sender;
  private readonly secrets: SecretCache;
  private readonly limiter = new RateLimiter();
  private readonly userAgent = USER_AGENT;
  private readonly workIds = new Map<string, string>();
  private readonly wakeTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: DeliveryWorkerOptions) {
    const guard = options.guard ?? new AddressGuard(options.config.allowTargets);
    this.sender = new Sender({ guard, timeoutMs: options.config.deliveryTimeoutMs });
    this.secrets = new SecretCache(options.secretKey);
  }

  async start(): Promise<void> {
    const { boss, config } = this.options;
    const common = { batchSize: config.workerBatchSize, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 2 };
    // HOOKGRAPH_WORKER_CONCURRENCY fetch loops in all, spread over the shard queues (at least one each).
    const perShard = Math.max(1, Math.round(config.workerConcurrency / DELIVERY_SHARDS));
    for (const name of DELIVERY_SHARD_QUEUES) {
      this.workIds.set(name, await boss.work<DeliveryJobV1>(name, { ...common, localConcurrency: perShard }, (jobs) => this.runBatch(jobs, false)));
    }
    this.workIds.set(ORDERED_DELIVERY_QUEUE, await boss.work<DeliveryJobV1>(ORDERED_DELIVERY_QUEUE, { ...common, localConcurrency: 1 }, (jobs) => this.runBatch(jobs, true)));
  }

  async stop(): Promise<void> {
    for (const timer of this.wakeTimers.values()) clearTimeout(timer);
    this.wakeTimers.clear();
    // By id: other workers on the same boss (tests run several) keep their loops.
    for (const [name, id] of this.workIds) await this.options.boss.offWork(name, { id }).catch(() => undefined);
    await this.sender.close();
  }

  private async runBatch(jobs: DeliveryJob[], ordered: boolean): Promise<void> {
    try {
      await this.processBatch(jobs, ordered);
    } catch (error) {
      // Thrown: pg-boss fails the batch and re-runs it; the fence keeps re-runs safe.
      this.options.log.error('delivery batch failed', { err: error, jobs: jobs.length, ordered });
      throw error;
    }
  }

  private async processBatch(jobs: DeliveryJob[], ordered: boolean): Promise<void> {
    const { db, metrics } = this.options;
    const wellFormed = jobs.filter((job) => isDeliveryJob(job.data));
    if (wellFormed.length < jobs.length) this.options.log.warn('skipping delivery jobs of an unknown shape', { count: jobs.length - wellFormed.length });
    const valid = newestPerDelivery(wellFormed);
    const jobById = new Map(valid.map((job) => [job.data.d, job]));
    const due = await db.transaction((tx) => deliveries.claimDue(tx, valid.map((job) => ({ id: job.data.d, attemptCount: job.data.a }))), WORKER);
    const claims: Claim[] = due.map((row) => ({ job: jobById.get(row.id)!, row, waitMs: 0 }));
    const claimedIds = new Set(due.map((row) => row.id));
    const rest = valid.filter((job) => !claimedIds.has(job.data.d));
    if (rest.length) claims.push(...(await this.claimCarefully(rest, ordered)));

    const finished = await Promise.all(claims.map((claim) => this.attempt(claim)));
    const applied = await db.transaction(async (tx) => {
      const written = await recordAttempts(tx, finished, this.options.config.disableAfterMs);
      await this.scheduleRetries(tx, written, ordered);
      return written;
    }, WORKER);
    if (applied.length < finished.length) this.options.log.info('attempts recorded without changing their delivery (deleted, or taken over after the job expired)', { count: finished.length - applied.length });
    // The next job of an ordered key becomes fetchable only when this batch completes: fetch again right away.
    if (ordered && valid.length) this.options.boss.notifyWorker(this.workIds.get(ORDERED_DELIVERY_QUEUE)!);
    for (const { attempt: f } of applied) if (f.outcome.nextAttemptAt) this.wakeAt(queueFor(ordered, f.row.id), f.outcome.nextAttemptAt.getTime());
    const recordedAt = Date.now();
    for (const { attempt } of applied) {
      metrics?.deliveries.inc({ outcome: attempt.outcome.status });
      if (attempt.outcome.status === 'SUCCEEDED') metrics?.deliveryLatency.observe(Math.max(0, recordedAt - attempt.row.publishedAt.getTime()) / 1000);
    }
    for (const attempt of finished) metrics?.attemptDuration.observe({ result: attempt.result.errorKind ? 'failure' : 'success' }, attempt.result.durationMs / 1000);
    if (this.options.log.debugEnabled) {
      const attemptNumbers = new Map(applied.map(({ attempt, attemptNumber }) => [attempt, attemptNumber]));
      for (const attempt of finished) logAttempt(this.options.log, attempt, attemptNumbers.get(attempt));
    }
  }

  /**
   * Jobs the one-statement claim left out: stale or finished (skipped),
   * subscription no longer enabled (CANCELLED), rate limited (deferred to
   * their slot, or for ordered ones waited for in-process), or claimable after all.
   */
  private async claimCarefully(jobs: readonly DeliveryJob[], ordered: boolean): Promise<Claim[]> {
    const { db, metrics } = this.options;
    const rows = await deliveries.forSending(db, jobs.map((job) => job.data.d));
    const now = Date.now();
    const claims: Claim[] = [];
    const cancelled: DueDelivery[] = [];
    const deferred: DeliveryJobTarget[] = [];
    for (const job of jobs) {
      const row = rows.get(job.data.d);
      // Gone (pruned, deleted) or stale (its attempt already happened): nothing to do.
      if (!row || row.attemptCount !== job.data.a || !CLAIMABLE.has(row.status)) continue;
      if (row.subscriptionStatus !== 'ENABLED') {
        cancelled.push(row);
        continue;
      }
      let waitMs = 0;
      if (row.rateLimitPerSecond && !job.data.r) waitMs = this.limiter.reserve(row.webhookSubscriptionId, row.rateLimitPerSecond, now);
      if (waitMs > 0 && !ordered) {
        deferred.push({
          deliveryId: row.id,
          attemptCount: job.data.a,
          scheduleIndex: job.data.s,
          webhookSubscriptionId: row.webhookSubscriptionId,
          ordered: false,
          deferrals: (job.data.r ?? 0) + 1,
          startAfter: new Date(now + waitMs),
        });
        continue;
      }
      claims.push({ job, row, waitMs });
    }
    const claimed = await db.transaction(async (tx) => {
      await deliveries.cancelNotEnabled(tx, cancelled);
      await enqueue(this.options.boss, tx, deferred);
      return deliveries.markSending(tx, claims.map((c) => ({ row: c.row, attemptCount: c.job.data.a })));
    }, WORKER);
    if (cancelled.length) metrics?.deliveries.inc({ outcome: 'CANCELLED' }, cancelled.length);
    for (const target of deferred) this.wakeAt(queueFor(false, target.deliveryId), target.startAfter!.getTime());
    return claims.filter((c) => claimed.has(c.row.id));
  }

  /**
   * One attempt; never throws. Anything unexpected (a signing secret that no
   * longer opens, a bug) is a failed INTERNAL attempt on the normal retry
   * schedule, so it cannot take the rest of the batch down with it.
   */
  private async attempt(claim: Claim): Promise<Finished> {
    const { row, job } = claim;
    let requestHeaders: Record<string, string> = {};
    let result: SendResult;
    const startedAt = new Date();
    try {
      if (claim.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, claim.waitMs));
      const now = Date.now();
      result = await traceAttempt(row, job.data.a + 1, async (traceparent) => {
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
    const outcome = decideOutcome(result, this.options.config.retrySchedule, job.data.s, Date.now());
    return { job, row, claimedCount: job.data.a, requestHeaders, result, outcome };
  }

  /**
   * Unordered deliveries get a fresh job for their next attempt. Ordered ones
   * must keep their place at the head of their key, so their own job goes to
   * pg-boss's retry state (which holds the key) with the new start time.
   */
  private async scheduleRetries(tx: Tx, applied: readonly AppliedAttempt<Finished>[], ordered: boolean): Promise<void> {
    const retrying = applied.filter(({ attempt }) => attempt.outcome.nextAttemptAt).map(({ attempt, attemptNumber }) => ({ ...attempt, attemptNumber }));
    if (!ordered) {
      await enqueue(
        this.options.boss,
        tx,
        retrying.map((f) => ({
          deliveryId: f.row.id,
          attemptCount: f.attemptNumber,
          scheduleIndex: f.outcome.nextScheduleIndex!,
          webhookSubscriptionId: f.row.webhookSubscriptionId,
          ordered: false,
          startAfter: f.outcome.nextAttemptAt!,
        })),
      );
      return;
    }
    const { boss } = this.options;
    for (const f of retrying) {
      const db = tx.jobs;
      await boss.fail(ORDERED_DELIVERY_QUEUE, { id: f.job.id, retryCount: f.job.retryCount }, { error: f.outcome.lastError }, { db });
      const data: DeliveryJobV1 = { v: 1, d: f.row.id, a: f.attemptNumber, s: f.outcome.nextScheduleIndex! };
      await boss.update(ORDERED_DELIVERY_QUEUE, data, { id: f.job.id, startAfter: f.outcome.nextAttemptAt!, db });
    }
  }

  /**
   * pg-boss only hears of jobs that are due at insert time; a retry due in
   * 200 ms would otherwise wait for the next poll. Wake this process's worker
   * when it falls due (other processes still find it by polling).
   */
  private wakeAt(queue: string, at: number): void {
    const workId = this.workIds.get(queue);
    const delay = at - Date.now();
    if (!workId || delay > 60_000) return;
    const bucket = Math.ceil(at / 50) * 50;
    const key = `${queue}:${bucket}`;
    if (this.wakeTimers.has(key)) return;
    const timer = setTimeout(() => {
      this.wakeTimers.delete(key);
      this.options.boss.notifyWorker(workId);
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
 * One job per delivery: a batch can hold an expired job's re-run next to the
 * delivery's newer job. Attempt counts only grow, so the job with the higher
 * count (then the later deferral) is the only one that can be current; the
 * others complete with the batch as stale.
 */
function newestPerDelivery(jobs: readonly DeliveryJob[]): DeliveryJob[] {
  const newest = new Map<string, DeliveryJob>();
  for (const job of jobs) {
    const seen = newest.get(job.data.d);
    if (!seen || job.data.a > seen.data.a || (job.data.a === seen.data.a && (job.data.r ?? 0) > (seen.data.r ?? 0))) newest.set(job.data.d, job);
  }
  return newest.size === jobs.length ? [...jobs] : [...newest.values()];
}
