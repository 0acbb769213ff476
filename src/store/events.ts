import type { Sql, Tx } from './db.js';

/**
 * The `event` table — events: stored once per publish, with the wire body serialized at publish time.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
