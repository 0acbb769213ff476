import type { Sql, Tx } from './db.js';
import { asDate } from '../delivery/dates.js';
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


// (end of the delivery path section)
