import type { Sql, Tx } from './db.js';

/**
 * The `delivery` table — deliveries: one per (event, subscription), the unit the worker claims and the live stream reports.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
