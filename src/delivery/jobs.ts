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
 * - `k`: set when the rate limit deferred this attempt to a slot it reserved:
 *   the job is sent without reserving another. Kept when the job is deferred
 *   again for its share; a job deferred only for its share never had a slot
 *   and reserves one when it comes back.
 * - `t`: that slot (epoch ms, the database's clock). The job starts a little
 *   before it and the worker waits for the slot itself: fetch and claim
 *   latency vary, a timer much less, so sends keep their spacing.
 * - `c`: set when the last deferral waited for the subscription's open
 *   circuit, not for a reserved rate-limit slot: the rate limit still applies
 *   to it, and a closing circuit pulls it forward.
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
  k?: 1;
  t?: number;
  c?: 1;
  m?: string;
}

/**
 * The first attempt of several new deliveries of one subscription, made by
 * one publish call (`b`: their ids, at most `BATCH_MAX`): one job instead of
 * one per delivery, so the queue writes of a busy publish are shared. Each
 * delivery is attempted and recorded on its own; the job is completed once
 * every one of them is settled. Retries, deferrals and manual re-queues get
 * jobs of their own (`DeliveryJobV1`).
 */
export interface DeliveryBatchJobV1 {
  v: 1;
  b: string[];
}

/** Deliveries per batch job: within a subscription's default in-flight share, so a batch usually starts at once. */
export const BATCH_MAX = 32;

export function isDeliveryJob(data: unknown): data is DeliveryJobV1 {
  const job = data as DeliveryJobV1 | null;
  return !!job && job.v === 1 && typeof job.d === 'string' && Number.isInteger(job.a) && Number.isInteger(job.s);
}

export function isDeliveryBatchJob(data: unknown): data is DeliveryBatchJobV1 {
  const job = data as DeliveryBatchJobV1 | null;
  return !!job && job.v === 1 && Array.isArray(job.b) && job.b.length > 0 && job.b.every((id) => typeof id === 'string');
}

/** A batch member as the job of its first attempt would have been. */
export function memberJob(deliveryId: string): DeliveryJobV1 {
  return { v: 1, d: deliveryId, a: 0, s: 0 };
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
  return jobIdOf(job.d, `${job.d}:${job.a}:${job.r ?? 0}${job.m ? `:${job.m}` : ''}`);
}

/** A UUID starting with the delivery id's time-ordered half, the rest from a hash of `key`. */
function jobIdOf(deliveryId: string, key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const variant = ((parseInt(hex[0], 16) & 0x3) | 0x8).toString(16);
  return `${deliveryId.slice(0, 18)}-${variant}${hex.slice(1, 4)}-${hex.slice(4, 16)}`;
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
  /** The attempt holds its rate-limit slot (see `k`)… */
  keepsSlot?: boolean;
  /** …which is then (see `t`). */
  slotAt?: Date;
  /** The deferral waits for an open circuit (see `c`). */
  circuit?: boolean;
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
  if (target.keepsSlot) data.k = 1;
  if (target.slotAt) data.t = target.slotAt.getTime();
  if (target.circuit) data.c = 1;
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
 * The jobs of new deliveries (first attempts, no deferral): unordered ones
 * share batch jobs per queue and subscription, in runs of at most
 * `BATCH_MAX`; ordered ones keep a job each (their key holds one job at a
 * time). A delivery belongs to one batch only, so the batch's id is derived
 * from its first member's.
 */
export async function enqueueNew(boss: PgBoss, tx: Tx, targets: readonly DeliveryJobTarget[]): Promise<void> {
  const single: DeliveryJobTarget[] = [];
  const batches = new Map<string, Map<string, DeliveryJobTarget[]>>();
  for (const target of targets) {
    if (target.ordered || target.attemptCount !== 0 || target.deferrals || target.requeue || target.startAfter) {
      single.push(target);
      continue;
    }
    const queue = queueFor(false, target.deliveryId);
    let bySubscription = batches.get(queue);
    if (!bySubscription) batches.set(queue, (bySubscription = new Map()));
    let members = bySubscription.get(target.webhookSubscriptionId);
    if (!members) bySubscription.set(target.webhookSubscriptionId, (members = []));
    members.push(target);
  }
  await enqueue(boss, tx, single);
  for (const [queue, bySubscription] of batches) {
    const jobs: JobInsert<DeliveryBatchJobV1 | DeliveryJobV1>[] = [];
    // Round robin over the subscriptions (pg-boss fetches in insertion order): a fetch brings a
    // batch of each rather than many of one, which would wait in the worker for that one's share.
    const longest = Math.max(...[...bySubscription.values()].map((members) => members.length));
    for (let i = 0; i < longest; i += BATCH_MAX) {
      for (const [subscription, members] of bySubscription) {
        const run = members.slice(i, i + BATCH_MAX);
        if (run.length === 0) continue;
        // A lone delivery keeps the plain shape: same job, and readable by workers that predate batches.
        if (run.length === 1) jobs.push(deliveryJob(run[0]));
        else jobs.push({ id: jobIdOf(run[0].deliveryId, `${run[0].deliveryId}:batch`), data: { v: 1, b: run.map((t) => t.deliveryId) }, group: { id: subscription } });
      }
    }
    await boss.insert(queue, jobs, { db: tx.jobs });
  }
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
