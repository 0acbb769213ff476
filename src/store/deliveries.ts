import type { Sql, Tx } from './db.js';
import { asDate } from '../delivery/dates.js';
import { DeliveryStatus } from '../domain/entities/Delivery.js';
import { isUuid, uuidv7Floor } from '../domain/ids.js';
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


// (end of the delivery path section)
