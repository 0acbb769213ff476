import { PgBoss, type Queue } from 'pg-boss';
import type { Logger } from '../log.js';
import { PGBOSS_SCHEMA } from '../store/queue.js';
import { DELIVERY_SHARD_QUEUES, ORDERED_DELIVERY_QUEUES, RETENTION_QUEUE } from './jobs.js';


export interface QueueOptions {
  url: string;
  log: Logger;
  /** Only workers run maintenance and cron; api processes just send. */
  supervise: boolean;
  /** Per-attempt HTTP timeout; job expiration sits just above it. */
  deliveryTimeoutMs?: number;
  /** Connections of pg-boss's own pool. */
  max?: number;
}

/**
 * Seconds a delivery job may stay active before pg-boss assumes its worker
 * died and runs it again: the attempt's timeout plus a margin for the batch's
 * database work, instead of pg-boss's 15-minute default, so a killed worker's
 * deliveries resume within seconds.
 */
export function deliveryExpireSeconds(deliveryTimeoutMs: number): number {
  return Math.ceil(deliveryTimeoutMs / 1000) + 5;
}

export async function startBoss({ url, log, supervise, deliveryTimeoutMs = 15_000, max = 10 }: QueueOptions): Promise<PgBoss> {
  const expireInSeconds = deliveryExpireSeconds(deliveryTimeoutMs);
  // Expired jobs are found by the supervisor's monitor pass (both timers gate it); check often
  // enough that a crash costs about the expiry, not a minute more.
  const superviseIntervalSeconds = Math.min(60, Math.max(2, Math.ceil(expireInSeconds / 2)));
  const boss = new PgBoss({
    connectionString: url,
    schema: PGBOSS_SCHEMA,
    application_name: 'hookgraph-queue',
    // pg-boss's own connections only fetch, complete and maintain jobs (every job is created
    // inside a hookgraph transaction on another pool): a completion lost in a PostgreSQL crash
    // reruns the job, a duplicate delivery at worst, so they need not wait for the WAL flush.
    options: '-c synchronous_commit=off',
    supervise,
    schedule: supervise,
    migrate: true,
    max,
    useListenNotify: true,
    superviseIntervalSeconds,
    monitorIntervalSeconds: superviseIntervalSeconds,
  });
  boss.on('error', (err) => log.error('queue error', { err }));
  boss.on('warning', (warning) => log.warn('queue warning', { warning: (warning as { message?: string }).message ?? String(warning) }));
  await boss.start();
  const delivery: Omit<Queue, 'name'> = {
    notify: true,
    expireInSeconds,
    // Our own retries are new jobs (or, ordered, explicit fails); pg-boss's retries only re-run jobs of crashed workers.
    retryLimit: 1000,
    retryDelay: 0,
    deleteAfterSeconds: 15 * 60,
  };
  for (const name of DELIVERY_SHARD_QUEUES) await ensureQueue(boss, name, { ...delivery, policy: 'standard' });
  // An ordered job waits for its retries, an open circuit or a rate-limit slot in pg-boss's retry state (an
  // explicit fail each time, which counts as a pg-boss retry): a long outage must not use up its retry limit,
  // or pg-boss would drop the head of its key.
  for (const name of ORDERED_DELIVERY_QUEUES) await ensureQueue(boss, name, { ...delivery, retryLimit: ORDERED_RETRY_LIMIT, policy: 'key_strict_fifo' });
  await ensureQueue(boss, RETENTION_QUEUE, { policy: 'standard', expireInSeconds: 30 * 60, retryLimit: 2, deleteAfterSeconds: 24 * 60 * 60 });
  return boss;
}

/** pg-boss's retry_limit is an int4: as good as unlimited. */
const ORDERED_RETRY_LIMIT = 2 ** 31 - 1;

/** Creates a queue, or brings an existing one's options up to date (a policy is fixed at creation). */
async function ensureQueue(boss: PgBoss, name: string, options: Omit<Queue, 'name'>): Promise<void> {
  const { policy, ...updatable } = options;
  if (!(await boss.getQueue(name))) {
    try {
      await boss.createQueue(name, { ...updatable, policy });
      return;
    } catch (error) {
      // Another process created it at the same moment.
      if (!(await boss.getQueue(name))) throw error;
    }
  }
  await boss.updateQueue(name, updatable);
}
