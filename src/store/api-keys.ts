import { ApiKey, type ApiKeyScope } from '../domain/entities/ApiKey.js';
import { Tenant } from '../domain/entities/Tenant.js';
import { isUuid } from '../domain/ids.js';
import { apiKeyRevoked, type LiveMessage } from '../live/messages.js';
import type { Db, Sql, Tx } from './db.js';
import { idBelow, newestFirstOptions, type PageQuery } from './pages.js';

/**
 * The `api_key` table — api keys: hashed keys and their scopes.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────

/** What a request may do with a key: its id, tenant and scopes. */
export interface KeyGrant {
  id: string;
  tenantId: string;
  scopes: ApiKeyScope[];
}

/** The unrevoked key with this SHA-256 hash, if any: one indexed read per request, so a revoked key stops working at once. */
export async function byHash(db: Sql, hash: string): Promise<KeyGrant | undefined> {
  const { rows } = await db.query<KeyGrant>('select id, tenant_id as "tenantId", scopes from api_key where hash = $1 and revoked_at is null', [hash]);
  return rows[0];
}

/** A key with its tenant loaded; fails when there is none (the caller authenticated with it). */
export async function byIdWithTenant(db: Db, id: string): Promise<ApiKey & { tenant: Tenant }> {
  return db.em().findOneOrFail(ApiKey, id, { populate: ['tenant'] });
}

/** One page of the tenant's keys, newest first, revoked ones included. */
export async function page(db: Db, tenantId: string, request: PageQuery): Promise<ApiKey[]> {
  return db.em().find(ApiKey, { tenant: tenantId, ...idBelow(request) }, newestFirstOptions(request));
}

/** A key to store: only the hash of its plain text, and the prefix shown to recognise it. */
export interface NewApiKey {
  name: string;
  prefix: string;
  hash: string;
  scopes: ApiKeyScope[];
}

export async function create(tx: Tx, tenantId: string, key: NewApiKey): Promise<ApiKey> {
  const apiKey = tx.em.create(ApiKey, { tenant: tx.em.getReference(Tenant, tenantId), ...key });
  await tx.em.flush();
  return apiKey;
}

/**
 * Revokes one of the tenant's keys (revoking again keeps the first time) and
 * announces it: every api process closes the key's open WebSockets once this
 * commits. Undefined when the tenant has no key with this id.
 */
export async function revoke(tx: Tx, tenantId: string, id: string): Promise<ApiKey | undefined> {
  if (!isUuid(id)) return undefined;
  const found = await tx.em.findOne(ApiKey, { id, tenant: tenantId });
  if (!found) return undefined;
  found.revokedAt ??= new Date();
  await tx.em.flush();
  tx.announce(apiKeyRevoked({ tenantId, id: found.id }));
  return found;
}

// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────

/** Live resync: which of these keys (of open sockets) were revoked, as announcements. */
export async function revokedAmong(db: Sql, ids: readonly string[]): Promise<LiveMessage[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string; tenantId: string }>(`select id, tenant_id as "tenantId" from api_key where id = any($1::uuid[]) and revoked_at is not null`, [ids]);
  return rows.map(apiKeyRevoked);
}

// (end of the delivery path section)
