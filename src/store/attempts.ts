import type { Sql, Tx } from './db.js';

/**
 * The `delivery_attempt` table — attempts: one row per HTTP call, written before the delivery status changes.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
