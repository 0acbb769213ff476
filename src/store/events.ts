import { asDate } from './dates.js';
import { eventPublished, type LiveMessage } from '../live/messages.js';
import type { Sql, Tx } from './db.js';
import { newestFirst, SqlWhere, type PageQuery } from './pages.js';

/**
 * The `event` table — events: stored once per publish, with the wire body serialized at publish time.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────

/** An event as the API shows it. */
export interface EventRow {
  id: string;
  eventType: string;
  /** The stored wire body `{"id","type","timestamp","data"}`; the payload is read from it. */
  body: string;
  idempotencyKey: string | null;
  occurredAt: Date;
  createdAt: Date;
}

/** EventRow's columns, under its names (timestamps still as the driver gives them). */
const EVENT_COLUMNS = 'id, event_type as "eventType", body, idempotency_key as "idempotencyKey", occurred_at as "occurredAt", created_at as "createdAt"';

type EventColumns = Omit<EventRow, 'occurredAt' | 'createdAt'> & { occurredAt: Date | string; createdAt: Date | string };

function toEvent(row: EventColumns): EventRow {
  return { ...row, occurredAt: asDate(row.occurredAt), createdAt: asDate(row.createdAt) };
}

/** The tenant's events with these ids (ids of other tenants are left out), in no particular order. */
export async function byIds(db: Sql, tenantId: string, ids: readonly string[]): Promise<EventRow[]> {
  const { rows } = await db.query<EventColumns>(`select ${EVENT_COLUMNS} from event where tenant_id = $1 and id = any($2::uuid[])`, [tenantId, ids]);
  return rows.map(toEvent);
}

export interface EventFilter {
  /** Exact type names. */
  eventTypes?: readonly string[] | null;
  /** Created at or after. */
  since?: Date | null;
  /** Created before. */
  until?: Date | null;
}

/** One page of the tenant's events, newest first. */
export async function page(db: Sql, tenantId: string, filter: EventFilter | null, request: PageQuery): Promise<EventRow[]> {
  const where = new SqlWhere().add('tenant_id = ?', tenantId);
  if (filter?.eventTypes?.length) where.add('event_type = any(?::text[])', filter.eventTypes);
  if (filter?.since) where.add('created_at >= ?', filter.since);
  if (filter?.until) where.add('created_at < ?', filter.until);
  const rows = await newestFirst<EventColumns>(db, 'event', EVENT_COLUMNS, where, request);
  return rows.map(toEvent);
}

// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────

/** An event as publish returns it (the payload is read back from `body`). */
export interface StoredEvent {
  id: string;
  tenantId: string;
  eventType: string;
  body: string;
  idempotencyKey: string | null;
  occurredAt: Date;
  createdAt: Date;
}

/** An event to insert: its id and wire body are made by publish. */
export interface NewEvent {
  id: string;
  eventType: string;
  body: string;
  idempotencyKey: string | null;
  occurredAt: Date;
}

/**
 * Inserts the events of one publish call and announces them; returns when
 * each was created. An event whose idempotency key another publish took
 * meanwhile is not inserted (and not in the result).
 */
export async function insertMany(tx: Tx, tenantId: string, events: readonly NewEvent[], traceparent: string | null): Promise<Map<string, Date>> {
  if (events.length === 0) return new Map();
  const { rows } = await tx.query<{ id: string; createdAt: Date }>(
    `insert into event (id, tenant_id, event_type, body, idempotency_key, occurred_at, created_at, traceparent)
     select x.id, $1, x.event_type, x.body, x.idempotency_key, x.occurred_at, now(), $7::text
       from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) as x(id, event_type, body, idempotency_key, occurred_at)
     on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
     returning id, created_at as "createdAt"`,
    [tenantId, events.map((e) => e.id), events.map((e) => e.eventType), events.map((e) => e.body), events.map((e) => e.idempotencyKey), events.map((e) => e.occurredAt), traceparent],
  );
  const created = new Map(rows.map((r) => [r.id, asDate(r.createdAt)]));
  const byId = new Map(events.map((e) => [e.id, e]));
  tx.announce(...rows.map((r) => eventPublished({ tenantId, id: r.id, eventType: byId.get(r.id)!.eventType })));
  return created;
}

/** The tenant's events holding these idempotency keys. */
export async function byIdempotencyKeys(tx: Tx, tenantId: string, keys: readonly string[]): Promise<StoredEvent[]> {
  if (keys.length === 0) return [];
  const { rows } = await tx.query<StoredEvent>(
    `select id, tenant_id as "tenantId", event_type as "eventType", body, idempotency_key as "idempotencyKey", occurred_at as "occurredAt", created_at as "createdAt"
       from event where tenant_id = $1 and idempotency_key = any($2::text[])`,
    [tenantId, keys],
  );
  return rows.map((r) => ({ ...r, occurredAt: asDate(r.occurredAt), createdAt: asDate(r.createdAt) }));
}

/** Releases the idempotency keys of events past the window, so the keys can be used again. */
export async function releaseIdempotencyKeys(tx: Tx, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length) await tx.query('update event set idempotency_key = null where id = any($1::uuid[])', [eventIds]);
}

/** Retention: deletes up to `limit` events created before `cutoff` that have no delivery left; returns how many. */
export async function pruneOrphans(tx: Tx, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await tx.query(
    'delete from event where id in (select e.id from event e where e.created_at < $1 and not exists (select 1 from delivery d where d.event_id = e.id) limit $2)',
    [cutoff, limit],
  );
  return rowCount;
}

/** Live resync: events created since `since`, as announcements. */
export async function publishedSince(db: Sql, since: Date, limit: number): Promise<LiveMessage[]> {
  const { rows } = await db.query<{ id: string; tenantId: string; eventType: string }>(
    `select id, tenant_id as "tenantId", event_type as "eventType" from event where created_at >= $1 order by id limit ${Number(limit)}`,
    [since],
  );
  return rows.map(eventPublished);
}

// (end of the delivery path section)
