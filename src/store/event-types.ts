import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EventType } from '../domain/entities/EventType.js';
import type { EventTypeSource } from '../domain/event-schema.js';
import { Tenant } from '../domain/entities/Tenant.js';
import type { Db, Sql, Tx } from './db.js';
import { idBelow, newestFirstOptions, type PageQuery } from './pages.js';
import { VERSION_SQL as SUBSCRIPTIONS_VERSION_SQL } from './webhook-subscriptions.js';

/**
 * The `event_type` table — event types: names, JSON Schemas, archive state.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────

/** One page of the tenant's event types, newest first; archived ones only when asked for. */
export async function page(db: Db, tenantId: string, filter: { includeArchived?: boolean | null }, request: PageQuery): Promise<EventType[]> {
  return db.em().find(
    EventType,
    { tenant: tenantId, ...(filter.includeArchived ? {} : { archivedAt: null }), ...idBelow(request) },
    newestFirstOptions(request),
  );
}

/** The tenant's event type of this name, archived or not. */
export async function byName(db: Db, tenantId: string, name: string): Promise<EventType | null> {
  return db.em().findOne(EventType, { tenant: tenantId, name });
}

/** The tenant's event types that accept events, by name (the AsyncAPI catalog). */
export async function active(db: Db, tenantId: string): Promise<EventType[]> {
  return db.em().find(EventType, { tenant: tenantId, archivedAt: null }, { orderBy: { name: 'asc' } });
}

/**
 * The tenant's event types as the event schema is built from them (only the
 * columns it reads): archived ones too, whose names stay reserved.
 */
export async function forEventSchema(db: Sql, tenantId: string): Promise<EventTypeSource[]> {
  const { rows } = await db.query<EventTypeSource>(
    `select name, description, schema, created_at as "createdAt", archived_at is not null as archived from event_type where tenant_id = $1`,
    [tenantId],
  );
  return rows;
}

/**
 * A version of the tenant's event types that changes with every committed
 * create, change or archive, in any process: a digest of each row's id and
 * `xmin` (the transaction that wrote its current version). Every write
 * gives its row a new `xmin`, whatever the writer's clock says and in
 * whichever order transactions commit, which a latest `updated_at` cannot
 * promise (another process's clock behind, or two writes committing in the
 * other order than they stamped, leave the maximum where it was). The event
 * schema built from the rows is current while the version stays the same.
 */
export async function schemaVersion(db: Sql, tenantId: string): Promise<string> {
  const { rows } = await db.query<{ version: string }>(
    `select count(*)::text || ':' || coalesce(md5(string_agg(id::text || '@' || xmin::text, ',' order by id)), '') as version
       from event_type where tenant_id = $1`,
    [tenantId],
  );
  return rows[0].version;
}

/** The names of the tenant's event types that accept events. */
export async function activeNames(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db.em().find(EventType, { tenant: tenantId, archivedAt: null }, { fields: ['name'] });
  return rows.map((row) => row.name);
}

/** Thrown by `create` when the tenant already has an event type of that name (archived ones too); the transaction cannot go on. */
export class NameTaken extends Error {
  constructor(readonly eventTypeName: string) {
    super(`event type "${eventTypeName}" already exists`);
  }
}

export async function create(tx: Tx, tenantId: string, fields: { name: string; description: string | null; schema: unknown }): Promise<EventType> {
  if (await tx.em.count(EventType, { tenant: tenantId, name: fields.name })) throw new NameTaken(fields.name);
  // Stamped by the database's clock, not this process's: event schema names are taken in creation order, which must
  // not depend on which process's clock is behind. Milliseconds, so the row holds exactly what the entity does.
  const { rows } = await tx.query<{ now: Date }>(`select date_trunc('milliseconds', clock_timestamp()) as now`);
  const eventType = tx.em.create(EventType, { tenant: tx.em.getReference(Tenant, tenantId), ...fields, createdAt: rows[0].now, updatedAt: rows[0].now });
  try {
    await tx.em.flush();
  } catch (error) {
    // Two creates racing for the same name: the unique index decides.
    if (error instanceof UniqueConstraintViolationException) throw new NameTaken(fields.name);
    throw error;
  }
  return eventType;
}

/** What `update` changes; fields left undefined stay. `archived` true keeps an earlier archive time. */
export interface EventTypeChanges {
  description?: string | null;
  schema?: unknown;
  archived?: boolean | null;
}

/** Changes the tenant's event type of this name; undefined when there is none. */
/**
 * Locks the tenant's event type of this name until `tx` ends (false: there is
 * none): a change takes it before reading anything, so two changes of one
 * type run one after the other and the second reads what the first committed.
 */
export async function lockByName(tx: Tx, tenantId: string, name: string): Promise<boolean> {
  const { rows } = await tx.query('select 1 from event_type where tenant_id = $1 and name = $2 for no key update', [tenantId, name]);
  return rows.length > 0;
}

export async function update(tx: Tx, tenantId: string, name: string, changes: EventTypeChanges): Promise<EventType | undefined> {
  const eventType = await tx.em.findOne(EventType, { tenant: tenantId, name });
  if (!eventType) return undefined;
  if (changes.description !== undefined) eventType.description = changes.description;
  if (changes.schema !== undefined) eventType.schema = changes.schema;
  if (changes.archived === true) eventType.archivedAt ??= new Date();
  if (changes.archived === false) eventType.archivedAt = null;
  await tx.em.flush();
  return eventType;
}

// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────

/** An event type as publish checks it. */
export interface PublishType {
  name: string;
  schema: unknown;
  archivedAt: Date | string | null;
}

/**
 * The named event types of the tenant, and in the same round trip the
 * version of its subscriptions (so fan-out knows whether its cache is current).
 */
export async function forPublish(db: Sql, tenantId: string, names: readonly string[]): Promise<{ types: Map<string, PublishType>; subscriptionsVersion: string }> {
  const { rows } = await db.query<{ version: string; name: string | null; schema: unknown; archivedAt: Date | string | null }>(
    `select v.version, t.name, t.schema, t.archived_at as "archivedAt"
       from (select ${SUBSCRIPTIONS_VERSION_SQL} as version) v
       left join event_type t on t.tenant_id = $1 and t.name = any($2::text[])`,
    [tenantId, names],
  );
  const types = new Map<string, PublishType>();
  for (const row of rows) if (row.name !== null) types.set(row.name, { name: row.name, schema: row.schema, archivedAt: row.archivedAt });
  return { types, subscriptionsVersion: rows[0].version };
}

// (end of the delivery path section)
