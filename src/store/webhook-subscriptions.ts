import type { Sql, Tx } from './db.js';

/**
 * The `webhook_subscription` table — webhook subscriptions: endpoints, their sealed secrets and headers, their health.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────


// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
