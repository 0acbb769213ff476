import type { Sql, Tx } from './db.js';
import { asDate } from '../delivery/dates.js';

/**
 * The `delivery_attempt` table — attempts: one row per HTTP call, written before the delivery status changes.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────

/** An attempt as the API shows it; headers are stored already redacted. */
export interface AttemptRow {
  id: string;
  deliveryId: string;
  attemptNumber: number;
  startedAt: Date;
  durationMs: number;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  errorKind: string | null;
  error: string | null;
}

/** AttemptRow's columns, under its names (timestamps still as the driver gives them). */
const ATTEMPT_COLUMNS =
  'id, delivery_id as "deliveryId", attempt_number as "attemptNumber", started_at as "startedAt", duration_ms as "durationMs", request_headers as "requestHeaders", ' +
  'response_status as "responseStatus", response_headers as "responseHeaders", response_body as "responseBody", error_kind as "errorKind", error';

type AttemptColumns = Omit<AttemptRow, 'startedAt'> & { startedAt: Date | string };

/**
 * Every attempt of these deliveries, by delivery, first to last. No tenant
 * test: callers pass ids of deliveries they read through a tenant-checked query.
 */
export async function forDeliveries(db: Sql, deliveryIds: readonly string[]): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptColumns>(
    `select ${ATTEMPT_COLUMNS} from delivery_attempt where delivery_id = any($1::uuid[]) order by delivery_id, attempt_number, started_at`,
    [deliveryIds],
  );
  return rows.map((row) => ({ ...row, startedAt: asDate(row.startedAt) }));
}

// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
