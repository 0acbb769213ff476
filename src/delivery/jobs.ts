import { createHash } from 'node:crypto';
import type { JobInsert, PgBoss } from 'pg-boss';
import type { Tx } from '../store/db.js';

/**
 * Deliveries without ordering are spread over a fixed number of pg-boss
 * queues by delivery id. pg-boss wakes every worker of a queue on each
 * NOTIFY, so one queue with N local workers costs N fetches per published
 * event when traffic is light; one queue per worker costs one. Fixed, not
 * configured: api and worker processes must agree on it.
 */
export const DELIVERY_SHARDS = 4;
export const DELIVERY_SHARD_QUEUES: readonly string[] = Array.from({ length: DELIVERY_SHARDS }, (_, i) => `hookgraph-delivery-${i}`);
/**
 * Ordered deliveries: `key_strict_fifo`, one in flight per key. The key is the
 * subscription id for `ordered` subscriptions, the subscription id and a hash
 * of the key value for those with an `orderingKey` (see `orderingKeyOf`).
 */
export const ORDERED_DELIVERY_QUEUE = 'hookgraph-delivery-ordered';
/**
 * Keyed deliveries are spread over this queue and a few more by their key hash
 * (every job of one key in one queue). A key_strict_fifo fetch reads the head
 * of every key waiting in its queue, so its cost grows with the queue's
 * backlog: smaller queues, cheaper fetches. `ordered` subscriptions (the
 * subscription is the key) stay in the first. Fixed: api and worker processes must agree on it.
 */
export const ORDERED_DELIVERY_QUEUES: readonly string[] = [ORDERED_DELIVERY_QUEUE, ...Array.from({ length: DELIVERY_SHARDS - 1 }, (_, i) => `${ORDERED_DELIVERY_QUEUE}-${i + 1}`)];
/** Scheduled pruning of old attempts, deliveries and events. */
export const RETENTION_QUEUE = 'hookgraph-retention';

export const DELIVERY_QUEUES: readonly string[] = [...DELIVERY_SHARD_QUEUES, ...ORDERED_DELIVERY_QUEUES];

/**
 * A delivery job carries ids and counters only, never payloads (v = shape version).
 * - `d`: delivery id.
 * - `a`: the delivery's attempt_count when the job was made; a job whose `a`
 *   no longer matches is stale (its attempt already happened) and is skipped.
 * - `s`: index into the retry schedule of the attempt this job makes.
 * - `r`: how often this attempt was deferred, by the rate limit or by the
 *   subscription's in-flight share (keeps job ids unique).
 * - `m`: set on manual re-queues (deliveryRetry, replay): a fresh id, so the
 *   new job never collides with the finished job pg-boss still keeps for the
 *   same attempt count (a CANCELLED delivery never advanced its count).
 */
export interface DeliveryJobV1 {
  v: 1;
  d: string;
  a: number;
  s: number;
  r?: number;
  m?: string;
}

export function isDeliveryJob(data: unknown): data is DeliveryJobV1 {
  const job = data as DeliveryJobV1 | null;
  return !!job && job.v === 1 && typeof job.d === 'string' && Number.isInteger(job.a) && Number.isInteger(job.s);
}

/**
 * Job ids are derived from (delivery, attempt, deferral, manual re-queue):
 * inserting the same worker-made attempt twice (a batch re-run after a crash)
 * is a no-op in pg-boss (ON CONFLICT DO NOTHING), so one attempt never has two
 * jobs. Manual re-queues lock the delivery row and carry their own `m`. The id starts with the delivery id's time-ordered half, so
 * jobs made in one transaction sort in publish order (pg-boss breaks ties of
 * `created_on` by id, which is what keeps `ordered` subscriptions in order).
 */
export function deliveryJobId(job: DeliveryJobV1): string {
  const hex = createHash('sha256').update(`${job.d}:${job.a}:${job.r ?? 0}${job.m ? `:${job.m}` : ''}`).digest('hex');
  const variant = ((parseInt(hex[0], 16) & 0x3) | 0x8).toString(16);
  return `${job.d.slice(0, 18)}-${variant}${hex.slice(1, 4)}-${hex.slice(4, 16)}`;
}

export interface DeliveryJobTarget {
  deliveryId: string;
  attemptCount: number;
  scheduleIndex: number;
  webhookSubscriptionId: string;
  ordered: boolean;
  /** Ordered only: hash of the delivery's ordering key value; absent or null: the subscription is the key. */
  orderingKey?: string | null;
  deferrals?: number;
  startAfter?: Date;
  /** Manual re-queue id (see `m`). */
  requeue?: string;
}

/**
 * The queue of a delivery's jobs: unordered, its shard (from the random tail of
 * its id); ordered, the first ordered queue, or for a keyed delivery the
 * ordered queue of its key hash (base64url: 64 letters, 16 per queue).
 */
export function queueFor(ordered: boolean, deliveryId: string, keyHash?: string | null): string {
  if (!ordered) return DELIVERY_SHARD_QUEUES[parseInt(deliveryId.slice(-2), 16) % DELIVERY_SHARDS];
  return keyHash ? ORDERED_DELIVERY_QUEUES[keyHash.charCodeAt(0) % ORDERED_DELIVERY_QUEUES.length] : ORDERED_DELIVERY_QUEUE;
}

/**
 * `id` (a fresh UUID) moved into shard `shard`: the shard is the low bits of
 * the id's last byte (two random bits given up), so `queueFor` still derives it
 * from the id alone while a publish can put its deliveries where it wants.
 */
export function inShard(id: string, shard: number): string {
  const last = parseInt(id.slice(-2), 16);
  const moved = last - (last % DELIVERY_SHARDS) + (shard % DELIVERY_SHARDS);
  return id.slice(0, -2) + moved.toString(16).padStart(2, '0');
}

/**
 * Shards for the deliveries of one publish call: runs of `chunk` deliveries
 * per shard from a random first shard. A small call lands in one queue (one
 * pg-boss insert, one NOTIFY, one worker fetch instead of one per shard); a
 * large one still spreads over every shard's workers.
 */
export function shardPicker(chunk: number): () => number {
  const first = Math.floor(Math.random() * DELIVERY_SHARDS);
  let n = 0;
  return () => (first + Math.floor(n++ / Math.max(1, chunk))) % DELIVERY_SHARDS;
}

/**
 * The pg-boss insert row for one delivery attempt. Its pg-boss group is the
 * subscription: the worker reads it to count a subscription's share before
 * claiming anything, and leaves out subscriptions at their share when it
 * fetches (`ignoreGroups`).
 */
export function deliveryJob(target: DeliveryJobTarget): JobInsert<DeliveryJobV1> {
  const data: DeliveryJobV1 = { v: 1, d: target.deliveryId, a: target.attemptCount, s: target.scheduleIndex };
  if (target.deferrals) data.r = target.deferrals;
  if (target.requeue) data.m = target.requeue;
  const job: JobInsert<DeliveryJobV1> = { id: deliveryJobId(data), data, group: { id: target.webhookSubscriptionId } };
  if (target.startAfter) job.startAfter = target.startAfter.toISOString();
  if (target.ordered) job.singletonKey = orderingKeyOf(target.webhookSubscriptionId, target.orderingKey);
  return job;
}

/** The pg-boss key of an ordered delivery: its subscription, and the hash of its key value when it has one. */
export function orderingKeyOf(subscriptionId: string, keyHash: string | null | undefined): string {
  return keyHash ? `${subscriptionId}:${keyHash}` : subscriptionId;
}

/**
 * Sends the jobs of these attempts inside `tx` (one insert per queue), so
 * they commit or roll back with the rows they are about. `verify` fails (and
 * so rolls back) when pg-boss inserted fewer jobs than asked: a delivery
 * without its job would stay PENDING forever.
 */
export async function enqueue(boss: PgBoss, tx: Tx, targets: readonly DeliveryJobTarget[], options: { verify?: boolean } = {}): Promise<void> {
  for (const [name, jobs] of byQueue(targets)) {
    const ids = await boss.insert(name, jobs, { db: tx.jobs, returnId: options.verify });
    if (options.verify && (ids?.length ?? 0) !== jobs.length) throw new Error(`queued ${ids?.length ?? 0} of ${jobs.length} delivery jobs in ${name}`);
  }
}

/** Splits job rows by queue, so each queue gets one insert. */
export function byQueue(targets: readonly DeliveryJobTarget[]): Map<string, JobInsert<DeliveryJobV1>[]> {
  const map = new Map<string, JobInsert<DeliveryJobV1>[]>();
  for (const target of targets) {
    const name = queueFor(target.ordered, target.deliveryId, target.orderingKey);
    let list = map.get(name);
    if (!list) map.set(name, (list = []));
    list.push(deliveryJob(target));
  }
  return map;
}
