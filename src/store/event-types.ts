import type { Sql, Tx } from './db.js';

/**
 * The `event_type` table — event types: names, JSON Schemas, archive state.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
