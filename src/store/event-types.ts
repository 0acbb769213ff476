import { VERSION_SQL as SUBSCRIPTIONS_VERSION_SQL } from './webhook-subscriptions.js';
import type { Sql, Tx } from './db.js';

/**
 * The `event_type` table — event types: names, JSON Schemas, archive state.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


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
