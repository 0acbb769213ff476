import { DeliveryStatus } from '../domain/entities/Delivery.js';
import { isUuid, uuidv7Floor } from '../domain/ids.js';
import { deliveryChanged, type LiveMessage } from '../live/messages.js';
import { asDate } from './dates.js';
import type { Sql, Tx } from './db.js';
import { newestFirst, SqlWhere, type PageQuery } from './pages.js';

/**
 * The `delivery` table — deliveries: one per (event, subscription), the unit the worker claims and the live stream reports.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────

/** A delivery as the API shows it. */
export interface DeliveryRow {
  id: string;
  eventId: string;
  webhookSubscriptionId: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** DeliveryRow's columns, under its names (timestamps still as the driver gives them). */
const DELIVERY_COLUMNS =
  'id, event_id as "eventId", webhook_subscription_id as "webhookSubscriptionId", status, attempt_count as "attemptCount", next_attempt_at as "nextAttemptAt", ' +
  'last_response_status as "lastResponseStatus", last_error as "lastError", created_at as "createdAt", updated_at as "updatedAt"';

type DeliveryColumns = Omit<DeliveryRow, 'nextAttemptAt' | 'createdAt' | 'updatedAt'> & { nextAttemptAt: Date | string | null; createdAt: Date | string; updatedAt: Date | string };

function toDelivery(row: DeliveryColumns): DeliveryRow {
  return { ...row, nextAttemptAt: asDate(row.nextAttemptAt), createdAt: asDate(row.createdAt), updatedAt: asDate(row.updatedAt) };
}

/** The tenant's deliveries with these ids (ids of other tenants are left out), in no particular order. */
export async function byIds(db: Sql, tenantId: string, ids: readonly string[]): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryColumns>(`select ${DELIVERY_COLUMNS} from delivery where tenant_id = $1 and id = any($2::uuid[])`, [tenantId, ids]);
  return rows.map(toDelivery);
}

export interface DeliveryFilter {
  webhookSubscriptionId?: string | null;
  eventId?: string | null;
  statuses?: readonly DeliveryStatus[] | null;
  /** Created at or after. */
  createdSince?: Date | null;
}

/** The statuses the generated column `delivery.attention` is true for. */
const ATTENTION: ReadonlySet<string> = new Set([DeliveryStatus.FAILED, DeliveryStatus.RETRYING, DeliveryStatus.CANCELLED]);

/** Malformed ids cannot exist: a page filtered on one is empty, like one filtered on another tenant's id. */
function impossible(filter: DeliveryFilter | null): boolean {
  return (!!filter?.webhookSubscriptionId && !isUuid(filter.webhookSubscriptionId)) || (!!filter?.eventId && !isUuid(filter.eventId));
}

/** One page of the tenant's deliveries, newest first. */
export async function page(db: Sql, tenantId: string, filter: DeliveryFilter | null, request: PageQuery): Promise<DeliveryRow[]> {
  if (impossible(filter)) return [];
  const where = new SqlWhere().add('tenant_id = ?', tenantId);
  if (filter?.webhookSubscriptionId) where.add('webhook_subscription_id = ?', filter.webhookSubscriptionId);
  if (filter?.eventId) where.add('event_id = ?', filter.eventId);
  if (filter?.statuses?.length) {
    where.add('status = any(?::text[])', filter.statuses);
    // Lets the planner use the partial indexes on `attention` (see the Delivery entity); the status test above stays exact.
    if (filter.statuses.every((s) => ATTENTION.has(s))) where.raw('attention');
  }
  if (filter?.createdSince) where.add('created_at >= ?', filter.createdSince);
  const rows = await newestFirst<DeliveryColumns>(db, 'delivery', DELIVERY_COLUMNS, where, request);
  return rows.map(toDelivery);
}

/**
 * The current state of the tenant's matching deliveries updated at or after
 * `since`: the `limit` most recently updated, oldest change first (the
 * catch-up of `deliveryUpdated(since:)`).
 */
export async function updatedSince(db: Sql, tenantId: string, filter: DeliveryFilter, since: Date, limit: number): Promise<DeliveryRow[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
  const where = new SqlWhere().add('tenant_id = ?', tenantId).add('updated_at >= ?', since);
  for (const [id, column] of [
    [filter.webhookSubscriptionId, 'webhook_subscription_id'],
    [filter.eventId, 'event_id'],
  ] as const) {
    if (id == null) continue;
    // As in the live filter, any given id that cannot exist (the empty string too) matches nothing.
    if (!isUuid(id)) return [];
    where.add(`${column} = ?`, id);
  }
  if (filter.statuses?.length) where.add('status = any(?::text[])', filter.statuses);
  if (filter.createdSince) where.add('created_at >= ?', filter.createdSince);
  const { rows } = await db.query<DeliveryColumns>(
    `select * from (select ${DELIVERY_COLUMNS} from delivery where ${where.sql} order by updated_at desc, id desc limit ${limit}) recent
      order by "updatedAt", id`,
    where.values,
  );
  return rows.map(toDelivery);
}

/** Deliveries created in one bucket, by current status, with the publish → success latency of the SUCCEEDED ones. */
export interface StatsBucket {
  start: Date;
  pending: number;
  sending: number;
  succeeded: number;
  retrying: number;
  failed: number;
  cancelled: number;
  total: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface DeliveryStats {
  since: Date;
  until: Date;
  bucketSeconds: number;
  /** Every bucket of [since, until), oldest first, empty ones included. */
  buckets: StatsBucket[];
  /** The whole range as one bucket starting at `since`. */
  total: StatsBucket;
}

/** Delivery ids come from the app's clock, `created_at` from the database's: the id range is this much wider. */
const CLOCK_SKEW_MS = 60_000;

interface StatsRow {
  start: Date | string | null;
  whole: boolean;
  pending: number | null;
  sending: number | null;
  succeeded: number | null;
  retrying: number | null;
  failed: number | null;
  cancelled: number | null;
  total: number | null;
  p50: number | null;
  p95: number | null;
}

/**
 * One statement: the tenant's deliveries created in [since, until) through the
 * (tenant_id, id) index (ids are UUIDv7, so the time range is an id range),
 * grouped per bucket and once for the whole range, joined onto every bucket of
 * the range. Latency is `updated_at − created_at` of SUCCEEDED deliveries:
 * `updated_at` is written with the success, and `created_at` is the event's
 * creation time (both are written by the publish transaction's `now()`). A
 * replayed delivery counts from its original publish.
 *
 * `since` must already be a multiple of `bucketSeconds`.
 */
export async function stats(db: Sql, tenantId: string, since: Date, until: Date, bucketSeconds: number): Promise<DeliveryStats> {
  const { rows } = await db.query<StatsRow>(
    `with d as (
       select date_bin(make_interval(secs => $4::int), created_at, $2::timestamptz) as start, status,
              case when status = 'SUCCEEDED' then extract(epoch from updated_at - created_at) * 1000 end as latency_ms
         from delivery
        where tenant_id = $1 and id >= $5::uuid and id < $6::uuid and created_at >= $2 and created_at < $3
     ), agg as (
       select start, grouping(start) = 1 as whole,
              count(*) filter (where status = 'PENDING')::int as pending,
              count(*) filter (where status = 'SENDING')::int as sending,
              count(*) filter (where status = 'SUCCEEDED')::int as succeeded,
              count(*) filter (where status = 'RETRYING')::int as retrying,
              count(*) filter (where status = 'FAILED')::int as failed,
              count(*) filter (where status = 'CANCELLED')::int as cancelled,
              count(*)::int as total,
              round(percentile_cont(0.5) within group (order by latency_ms))::float8 as p50,
              round(percentile_cont(0.95) within group (order by latency_ms))::float8 as p95
         from d group by grouping sets ((start), ())
     )
     select s.start, false as whole, a.pending, a.sending, a.succeeded, a.retrying, a.failed, a.cancelled, a.total, a.p50, a.p95
       from generate_series($2::timestamptz, $3::timestamptz, make_interval(secs => $4::int)) as s(start)
       left join agg a on a.start = s.start and not a.whole
      where s.start < $3
     union all
     select null, true, a.pending, a.sending, a.succeeded, a.retrying, a.failed, a.cancelled, a.total, a.p50, a.p95 from agg a where a.whole
     order by whole, start`,
    [tenantId, since, until, bucketSeconds, uuidv7Floor(new Date(since.getTime() - CLOCK_SKEW_MS)), uuidv7Floor(new Date(until.getTime() + CLOCK_SKEW_MS))],
  );
  const bucket = (row: StatsRow | undefined, start: Date): StatsBucket => ({
    start,
    pending: row?.pending ?? 0,
    sending: row?.sending ?? 0,
    succeeded: row?.succeeded ?? 0,
    retrying: row?.retrying ?? 0,
    failed: row?.failed ?? 0,
    cancelled: row?.cancelled ?? 0,
    total: row?.total ?? 0,
    latencyP50Ms: row?.p50 ?? null,
    latencyP95Ms: row?.p95 ?? null,
  });
  return {
    since,
    until,
    bucketSeconds,
    buckets: rows.filter((row) => !row.whole).map((row) => bucket(row, asDate(row.start!))),
    total: bucket(rows.find((row) => row.whole), since),
  };
}

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
  /** The subscription's own retry delays in ms; null: the server's schedule. */
  retrySchedule: number[] | null;
  /** The event's type (operational events are told apart by it). */
  eventType: string;
  /** The publish span's W3C traceparent, when the event was published with tracing on. */
  traceparent: string | null;
  /** When the event was published (its row's created_at): the start of the publish → success latency. */
  publishedAt: Date;
  /** The subscription's circuit (see delivery/circuit.ts); claimDue only returns closed ones. */
  circuitOpenedAt: Date | null;
  circuitNextProbeAt: Date | null;
  circuitProbeUntil: Date | null;
}

/** What a status change needs to be announced and re-queued. */
export type DeliveryRef = Pick<DueDelivery, 'id' | 'tenantId' | 'eventId' | 'webhookSubscriptionId' | 'status' | 'attemptCount'>;

/**
 * A delivery with its subscription's current `ordered` flag and whether it is
 * keyed now, plus the key hash the delivery was published with (manual
 * retries and replays re-queue by them), and the subscription's own retry
 * schedule (their one attempt is its last step).
 */
export type RequeueRow = DeliveryRef & { ordered: boolean; keyed: boolean; orderingKey: string | null; retrySchedule: number[] | null };

const REF_COLUMNS = `d.id, d.tenant_id as "tenantId", d.event_id as "eventId", d.webhook_subscription_id as "webhookSubscriptionId",
  d.status, d.attempt_count as "attemptCount"`;

const DUE_COLUMNS = `${REF_COLUMNS}, coalesce(d.body, e.body) as body, e.created_at as "publishedAt", e.traceparent, s.url, s.headers,
  s.status as "subscriptionStatus", s.secret_encrypted as "secretEncrypted", s.previous_secret_encrypted as "previousSecretEncrypted",
  s.previous_secret_expires_at as "previousSecretExpiresAt", s.rate_limit_per_second as "rateLimitPerSecond", s.max_in_flight as "maxInFlight", s.ordered,
  s.retry_schedule as "retrySchedule", e.event_type as "eventType",
  s.circuit_opened_at as "circuitOpenedAt", s.circuit_next_probe_at as "circuitNextProbeAt", s.circuit_probe_until as "circuitProbeUntil"`;

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
  /** Hash of the ordering key value (see domain/ordering-key.ts); null: not keyed. */
  orderingKey: string | null;
  /** The wire body shaped by the subscription's payload query, fixed for every attempt; absent: the event's body. */
  body?: string | null;
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
     insert into delivery (id, tenant_id, event_id, webhook_subscription_id, status, attempt_count, created_at, updated_at, body, ordering_key)
     select x.id, $1, x.event_id, x.subscription_id, 'PENDING', 0, now(), now(), x.body, x.ordering_key
       from unnest($2::uuid[], $3::uuid[], $4::uuid[], $6::text[], $7::text[]) as x(id, event_id, subscription_id, body, ordering_key)
      where x.subscription_id in (select id from live)
     returning id`,
    [
      tenantId,
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.eventId),
      deliveries.map((d) => d.webhookSubscriptionId),
      subscriptionIds,
      deliveries.map((d) => d.body ?? null),
      deliveries.map((d) => d.orderingKey),
    ],
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
 * subscription is ENABLED, not rate limited and its circuit closed, and returns what sending
 * needs. Whatever it leaves out goes through the careful path
 * (`forSending` + `markSending`). Announces the claimed ones.
 */
export async function claimDue(tx: Tx, jobs: readonly { id: string; attemptCount: number }[]): Promise<DueDelivery[]> {
  if (jobs.length === 0) return [];
  const { rows } = await tx.query<DueDelivery>(
    `with d as (
       update delivery d set status = 'SENDING', updated_at = now()
        where d.id = any($1::uuid[]) and ${DUE}
          and (select s.status = 'ENABLED' and s.rate_limit_per_second is null and s.circuit_opened_at is null from webhook_subscription s where s.id = d.webhook_subscription_id)
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
  row.circuitOpenedAt = asDate(row.circuitOpenedAt);
  row.circuitNextProbeAt = asDate(row.circuitNextProbeAt);
  row.circuitProbeUntil = asDate(row.circuitProbeUntil);
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
 * Locks those of these deliveries that are still due for the attempt count
 * their job was made for, and returns their ids: a probe is taken only for a
 * delivery that `markSending` will then claim (nothing else can move it on
 * while it is locked).
 */
export async function lockDue(tx: Tx, claims: readonly { row: DeliveryRef; attemptCount: number }[]): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const { rows } = await tx.query<{ id: string }>(`select d.id from delivery d where d.id = any($1::uuid[]) and ${DUE} order by d.id for update`, [
    claims.map((c) => c.row.id),
    claims.map((c) => c.attemptCount),
  ]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Deliveries whose subscription is no longer ENABLED are cancelled without an
 * attempt, fenced like a claim on the attempt count the rows were read at (a
 * row another worker has moved on meanwhile is left alone). Announced.
 * Returns the ids cancelled.
 */
export async function cancelNotEnabled(tx: Tx, rows: readonly DeliveryRef[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const { rows: cancelled } = await tx.query<{ id: string }>(
    `update delivery d set status = 'CANCELLED', next_attempt_at = null, last_error = 'subscription is not enabled', updated_at = now()
      where d.id = any($1::uuid[]) and ${DUE} returning d.id`,
    [rows.map((r) => r.id), rows.map((r) => r.attemptCount)],
  );
  const ids = new Set(cancelled.map((r) => r.id));
  tx.announce(...rows.filter((r) => ids.has(r.id)).map((r) => deliveryChanged(r, DeliveryStatus.CANCELLED, r.attemptCount)));
  return ids;
}

/**
 * Deliveries of an open circuit wait without an attempt: RETRYING until
 * `until` (the next probe), attempt count unchanged, fenced like a claim on
 * the count the job was made for. Announces those that were not RETRYING
 * already (a delivery waiting again changes neither status nor count).
 * Returns the ids that now wait.
 */
export async function waitForCircuit(tx: Tx, waits: readonly { row: DeliveryRef; attemptCount: number; until: Date }[]): Promise<Set<string>> {
  if (waits.length === 0) return new Set();
  const { rows } = await tx.query<{ id: string }>(
    `update delivery d set status = 'RETRYING', next_attempt_at = x.until, updated_at = now()
       from unnest($1::uuid[], $3::timestamptz[]) as x(id, until)
      where d.id = x.id and d.id = any($1::uuid[]) and ${DUE} returning d.id`,
    [waits.map((w) => w.row.id), waits.map((w) => w.attemptCount), waits.map((w) => w.until)],
  );
  const waiting = new Set(rows.map((r) => r.id));
  tx.announce(
    ...waits.filter((w) => waiting.has(w.row.id) && w.row.status !== DeliveryStatus.RETRYING).map((w) => deliveryChanged(w.row, DeliveryStatus.RETRYING, w.attemptCount)),
  );
  return waiting;
}

/** Waiting deliveries whose jobs were pulled forward (their circuit closed): their next attempt is now. Status unchanged, nothing announced. */
export async function attemptsNow(tx: Tx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`update delivery set next_attempt_at = now() where id = any($1::uuid[]) and status = 'RETRYING' and next_attempt_at > now()`, [ids]);
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

const REQUEUE_COLUMNS = `s.ordered, s.ordering_key is not null as keyed, d.ordering_key as "orderingKey", s.retry_schedule as "retrySchedule"`;

/** One of the tenant's deliveries, locked for a manual retry. */
export async function lockForRetry(tx: Tx, tenantId: string, deliveryId: string): Promise<RequeueRow | undefined> {
  const { rows } = await tx.query<RequeueRow>(
    `select ${REF_COLUMNS}, ${REQUEUE_COLUMNS}
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
    `select ${REF_COLUMNS}, ${REQUEUE_COLUMNS}
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
export async function pruneFinished(tx: Tx, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await tx.query(
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
