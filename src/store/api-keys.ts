import { apiKeyRevoked, type LiveMessage } from '../live/messages.js';
import type { Sql, Tx } from './db.js';

/**
 * The `api_key` table — api keys: hashed keys and their scopes.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────

/** Live resync: which of these keys (of open sockets) were revoked, as announcements. */
export async function revokedAmong(db: Sql, ids: readonly string[]): Promise<LiveMessage[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string; tenantId: string }>(`select id, tenant_id as "tenantId" from api_key where id = any($1::uuid[]) and revoked_at is not null`, [ids]);
  return rows.map(apiKeyRevoked);
}

// (end of the delivery path section)
