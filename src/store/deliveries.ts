import { DeliveryStatus } from '../domain/entities/Delivery.js';
import { uuidv7Floor } from '../domain/ids.js';
import { deliveryChanged, type LiveMessage } from '../live/messages.js';
import { asDate } from './dates.js';
import type { Sql, Tx } from './db.js';

/**
 * The `delivery` table — deliveries: one per (event, subscription), the unit the worker claims and the live stream reports.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────

/** A delivery as the worker sends it: the delivery, its event's wire body and its subscription's target. */
export interface DueDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  webhookSubscriptionId: string;
  status: DeliveryStatus;
  attemptCount: number;
  body: string;
  url: string;
  /** Names to sealed values (see domain/subscription-headers.ts). */
  headers: Record<string, string> | null;
  subscriptionStatus: string;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  rateLimitPerSecond: number | null;
  /** The subscription's own in-flight cap (null: the worker's default). */
  maxInFlight: number | null;
  ordered: boolean;
  /** The publish span's W3C traceparent, when the event was published with tracing on. */
  traceparent: string | null;
  /** When the event was published (its row's created_at): the start of the publish → success latency. */
  publishedAt: Date;
}

/** What a status change needs to be announced and re-queued. */
export type DeliveryRef = Pick<DueDelivery, 'id' | 'tenantId' | 'eventId' | 'webhookSubscriptionId' | 'status' | 'attemptCount'>;

/** A delivery with its subscription's current `ordered` flag (manual retries and replays re-queue by it). */
export type RequeueRow = DeliveryRef & { ordered: boolean };

const REF_COLUMNS = `d.id, d.tenant_id as "tenantId", d.event_id as "eventId", d.webhook_subscription_id as "webhookSubscriptionId",
  d.status, d.attempt_count as "attemptCount"`;

const DUE_COLUMNS = `${REF_COLUMNS}, e.body, e.created_at as "publishedAt", e.traceparent, s.url, s.headers,
  s.status as "subscriptionStatus", s.secret_encrypted as "secretEncrypted", s.previous_secret_encrypted as "previousSecretEncrypted",
  s.previous_secret_expires_at as "previousSecretExpiresAt", s.rate_limit_per_second as "rateLimitPerSecond", s.max_in_flight as "maxInFlight", s.ordered`;

/*
 * Batches are addressed as `id = any($1)`, and every other condition is kept
 * out of the planner's reach (inside CASE or a scalar subquery), so the only
 * plan is the primary-key lookup. Statistics lag far behind a queue table:
 * with a join on `unnest(...)`, or a plain `status in (...)`, the planner
 * took "few deliveries are PENDING" at its word and scanned every delivery
 * of the subscription instead (35 ms for a batch of 100).
 */
/** Due: not finished, and the attempt count is the one the job ($2, parallel to $1) was made for. */
const DUE = `(case when d.status in ('PENDING', 'RETRYING', 'SENDING') then d.attempt_count = ($2::int[])[array_position($1::uuid[], d.id)] else false end)`;

/** States in which a job may (still) make its attempt; SENDING means a worker died mid-attempt. */
export const CLAIMABLE: ReadonlySet<string> = new Set([DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING]);

/** A new delivery of publish, PENDING with no attempt yet. */
export interface NewDelivery {
  id: string;
  eventId: string;
  webhookSubscriptionId: string;
  ordered: boolean;
}

/**
 * Inserts PENDING deliveries and announces them; returns those inserted.
 * Those whose subscription was deleted since the fan-out cache was read are
 * left out: the subscription rows are key-share locked first, so a delete
 * that committed meanwhile is simply not seen and one still running waits for
 * this transaction, instead of the foreign key failing the publish.
 */
export async function insertPending<D extends NewDelivery>(tx: Tx, tenantId: string, deliveries: readonly D[]): Promise<D[]> {
  if (deliveries.length === 0) return [];
  const subscriptionIds = [...new Set(deliveries.map((d) => d.webhookSubscriptionId))];
  const { rows } = await tx.query<{ id: string }>(
    `with live as (select id from webhook_subscription where id = any($5::uuid[]) order by id for key share)
     insert into delivery (id, tenant_id, event_id, webhook_subscription_id, status, attempt_count, created_at, updated_at)
     select x.id, $1, x.event_id, x.subscription_id, 'PENDING', 0, now(), now()
       from unnest($2::uuid[], $3::uuid[], $4::uuid[]) as x(id, event_id, subscription_id)
      where x.subscription_id in (select id from live)
     returning id`,
    [tenantId, deliveries.map((d) => d.id), deliveries.map((d) => d.eventId), deliveries.map((d) => d.webhookSubscriptionId), subscriptionIds],
  );
  let kept: D[] = [...deliveries];
  if (rows.length !== deliveries.length) {
    const inserted = new Set(rows.map((r) => r.id));
    kept = deliveries.filter((d) => inserted.has(d.id));
  }
  tx.announce(...kept.map((d) => deliveryChanged({ tenantId, ...d }, DeliveryStatus.PENDING, 0)));
  return kept;
}

/**
 * The common case in one statement: marks SENDING every delivery of the batch
 * that is due (attempt count matches the job, not finished), whose
 * subscription is ENABLED and not rate limited, and returns what sending
 * needs. Whatever it leaves out goes through the careful path
 * (`forSending` + `markSending`). Announces the claimed ones.
 */
export async function claimDue(tx: Tx, jobs: readonly { id: string; attemptCount: number }[]): Promise<DueDelivery[]> {
  if (jobs.length === 0) return [];
  const { rows } = await tx.query<DueDelivery>(
    `with d as (
       update delivery d set status = 'SENDING', updated_at = now()
        where d.id = any($1::uuid[]) and ${DUE}
          and (select s.status = 'ENABLED' and s.rate_limit_per_second is null from webhook_subscription s where s.id = d.webhook_subscription_id)
        returning d.*
     )
     select ${DUE_COLUMNS} from d join event e on e.id = d.event_id join webhook_subscription s on s.id = d.webhook_subscription_id`,
    [jobs.map((j) => j.id), jobs.map((j) => j.attemptCount)],
  );
  tx.announce(...rows.map((row) => deliveryChanged(row, DeliveryStatus.SENDING, row.attemptCount)));
  return rows.map(withDates);
}

/** The pool hands timestamps back as text (see dates.ts). */
function withDates(row: DueDelivery): DueDelivery {
  row.publishedAt = asDate(row.publishedAt);
  row.previousSecretExpiresAt = asDate(row.previousSecretExpiresAt);
  return row;
}

/** The deliveries with what sending them needs, whatever their state (the careful claim path). */
export async function forSending(db: Sql, ids: readonly string[]): Promise<Map<string, DueDelivery>> {
  const { rows } = await db.query<DueDelivery>(
    `select ${DUE_COLUMNS}
       from delivery d
       join event e on e.id = d.event_id
       join webhook_subscription s on s.id = d.webhook_subscription_id
      where d.id = any($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, withDates(row)]));
}

/**
 * Marks deliveries SENDING, fenced on the attempt count the job was made for,
 * and announces it. Returns the ids actually claimed (a concurrent retry or
 * replay may have moved a delivery on).
 */
export async function markSending(tx: Tx, claims: readonly { row: DeliveryRef; attemptCount: number }[]): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const { rows } = await tx.query<{ id: string }>(
    `update delivery d set status = 'SENDING', updated_at = now() where d.id = any($1::uuid[]) and ${DUE} returning d.id`,
    [claims.map((c) => c.row.id), claims.map((c) => c.attemptCount)],
  );
  const claimed = new Set(rows.map((r) => r.id));
  tx.announce(...claims.filter((c) => claimed.has(c.row.id)).map((c) => deliveryChanged(c.row, DeliveryStatus.SENDING, c.attemptCount)));
  return claimed;
}

/**
 * Deliveries whose subscription is no longer ENABLED are cancelled without an
 * attempt, fenced like a claim on the attempt count the rows were read at (a
 * row another worker has moved on meanwhile is left alone). Announced.
 */
export async function cancelNotEnabled(tx: Tx, rows: readonly DeliveryRef[]): Promise<void> {
  if (rows.length === 0) return;
  const { rows: cancelled } = await tx.query<{ id: string }>(
    `update delivery d set status = 'CANCELLED', next_attempt_at = null, last_error = 'subscription is not enabled', updated_at = now()
      where d.id = any($1::uuid[]) and ${DUE} returning d.id`,
    [rows.map((r) => r.id), rows.map((r) => r.attemptCount)],
  );
  const ids = new Set(cancelled.map((r) => r.id));
  tx.announce(...rows.filter((r) => ids.has(r.id)).map((r) => deliveryChanged(r, DeliveryStatus.CANCELLED, r.attemptCount)));
}

/** Locks the deliveries an outcome is about to change and returns their current state (absent: deleted meanwhile). */
export async function lockForOutcome(tx: Tx, ids: readonly string[]): Promise<Map<string, { status: string; attemptCount: number }>> {
  const { rows } = await tx.query<{ id: string; status: string; attemptCount: number }>(
    'select id, status, attempt_count as "attemptCount" from delivery where id = any($1::uuid[]) order by id for update',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The outcome of an attempt, to apply to its delivery. */
export interface Outcome {
  delivery: DeliveryRef;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastResponseStatus: number | null;
  lastError: string | null;
}

/** Applies attempt outcomes (status, attempt count, next attempt, last response) and announces them. */
export async function applyOutcomes(tx: Tx, outcomes: readonly Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await tx.query(
    `update delivery d set status = x.status, attempt_count = x.attempt_count, next_attempt_at = x.next_attempt_at,
            last_response_status = x.last_response_status, last_error = x.last_error, updated_at = now()
       from json_to_recordset($1::json) as x(id uuid, status text, attempt_count int, next_attempt_at timestamptz,
            last_response_status int, last_error text)
      where d.id = x.id and d.id = any($2::uuid[])`,
    [
      JSON.stringify(
        outcomes.map((o) => ({
          id: o.delivery.id,
          status: o.status,
          attempt_count: o.attemptCount,
          next_attempt_at: o.nextAttemptAt,
          last_response_status: o.lastResponseStatus,
          last_error: o.lastError,
        })),
      ),
      // The same ids again, so the plan is a primary-key lookup whatever the statistics say.
      outcomes.map((o) => o.delivery.id),
    ],
  );
  tx.announce(...outcomes.map((o) => deliveryChanged(o.delivery, o.status, o.attemptCount)));
}

/** One of the tenant's deliveries, locked for a manual retry. */
export async function lockForRetry(tx: Tx, tenantId: string, deliveryId: string): Promise<RequeueRow | undefined> {
  const { rows } = await tx.query<RequeueRow>(
    `select ${REF_COLUMNS}, s.ordered
       from delivery d join webhook_subscription s on s.id = d.webhook_subscription_id
      where d.id = $1 and d.tenant_id = $2 for update of d`,
    [deliveryId, tenantId],
  );
  return rows[0];
}

/** A RETRYING delivery's next attempt moved to now (its job was moved too). */
export async function attemptNow(tx: Tx, deliveryId: string): Promise<void> {
  await tx.query('update delivery set next_attempt_at = now(), updated_at = now() where id = $1', [deliveryId]);
}

/** The subscription's deliveries in `statuses` created in [since, until), at most `limit`, locked for a replay. */
export async function lockForReplay(
  tx: Tx,
  tenantId: string,
  subscriptionId: string,
  statuses: readonly DeliveryStatus[],
  since: Date,
  until: Date,
  limit: number,
): Promise<RequeueRow[]> {
  const { rows } = await tx.query<RequeueRow>(
    `select ${REF_COLUMNS}, s.ordered
       from delivery d join webhook_subscription s on s.id = d.webhook_subscription_id
      where d.webhook_subscription_id = $1 and d.tenant_id = $2 and d.status = any($3::text[])
        and d.created_at >= $4 and d.created_at < $5
        and d.id >= $7::uuid and d.id < $8::uuid
      order by d.id limit $6 for update of d`,
    // Ids are UUIDv7: the id range (a minute wider, for clock skew) walks the (subscription, id) index.
    [subscriptionId, tenantId, statuses, since, until, limit, uuidv7Floor(new Date(since.getTime() - 60_000)), uuidv7Floor(new Date(until.getTime() + 60_000))],
  );
  return rows;
}

/** Deliveries queued again (manual retry or replay): PENDING, due now; announced. Their jobs are the caller's. */
export async function markRequeued(tx: Tx, rows: readonly DeliveryRef[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(`update delivery set status = 'PENDING', next_attempt_at = now(), updated_at = now() where id = any($1::uuid[])`, [rows.map((r) => r.id)]);
  tx.announce(...rows.map((r) => deliveryChanged(r, DeliveryStatus.PENDING, r.attemptCount)));
}

/** Retention: deletes up to `limit` finished deliveries last changed before `cutoff`; returns how many. */
export async function pruneFinished(db: Sql, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `delete from delivery where id in (select id from delivery where status in ('SUCCEEDED', 'FAILED', 'CANCELLED') and updated_at < $1 limit $2)`,
    [cutoff, limit],
  );
  return rowCount;
}

/** Live resync: the current state of deliveries changed since `since`, as announcements. */
export async function changedSince(db: Sql, since: Date, limit: number): Promise<LiveMessage[]> {
  const { rows } = await db.query<DeliveryRef>(
    `select id, tenant_id as "tenantId", event_id as "eventId", webhook_subscription_id as "webhookSubscriptionId", status, attempt_count as "attemptCount"
       from delivery where updated_at >= $1 order by updated_at, id limit ${Number(limit)}`,
    [since],
  );
  return rows.map((r) => deliveryChanged(r, r.status, r.attemptCount));
}

// (end of the delivery path section)
