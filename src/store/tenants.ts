import type { Sql, Tx } from './db.js';
import { Tenant } from '../domain/entities/Tenant.js';

/**
 * The `tenant` table — tenants.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────

/** A new tenant, written when this returns (its first key goes through api-keys.ts). */
export async function create(tx: Tx, name: string): Promise<Tenant> {
  const tenant = tx.em.create(Tenant, { name });
  await tx.em.flush();
  return tenant;
}

// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
