import { uuidv7 } from '../domain/ids.js';
import type { Sql, Tx } from './db.js';
import { asDate } from './dates.js';

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

/** One HTTP attempt to record. */
export interface NewAttempt {
  deliveryId: string;
  /** The delivery's attempt count under the lock: the new number is past it, and past every recorded one. */
  base: number;
  startedAt: Date;
  durationMs: number;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  errorKind: string | null;
  error: string | null;
}

/**
 * Records attempts (invariant 3: before their delivery's status changes) and
 * returns each one's attempt number, parallel to `attempts`. Call with the
 * deliveries locked: then a fresh statement sees every committed attempt, and
 * the next number is one past both the highest recorded one and the
 * delivery's count (attempts may have been pruned), so counts only ever grow.
 * Several attempts of one delivery (a job re-run while its first run was
 * still sending) get consecutive numbers in the order given.
 */
export async function insertNumbered(tx: Tx, attempts: readonly NewAttempt[]): Promise<number[]> {
  if (attempts.length === 0) return [];
  const ids = attempts.map((a) => uuidv7(a.startedAt.getTime()));
  const { rows } = await tx.query<{ id: string; attemptNumber: number }>(
    `insert into delivery_attempt (id, delivery_id, attempt_number, started_at, duration_ms, request_headers,
                                   response_status, response_headers, response_body, error_kind, error)
     select x.id, x.delivery_id,
            greatest(coalesce((select max(a.attempt_number) from delivery_attempt a where a.delivery_id = x.delivery_id), 0), x.base)
              + row_number() over (partition by x.delivery_id order by x.n),
            x.started_at, x.duration_ms, x.request_headers,
            x.response_status, x.response_headers, x.response_body, x.error_kind, x.error
       from json_to_recordset($1::json) as x(id uuid, n int, delivery_id uuid, base int, started_at timestamptz,
            duration_ms int, request_headers jsonb, response_status int, response_headers jsonb,
            response_body text, error_kind text, error text)
     returning id, attempt_number as "attemptNumber"`,
    [
      JSON.stringify(
        attempts.map((a, i) => ({
          id: ids[i],
          n: i,
          delivery_id: a.deliveryId,
          base: a.base,
          started_at: a.startedAt,
          duration_ms: a.durationMs,
          request_headers: a.requestHeaders,
          response_status: a.responseStatus,
          response_headers: a.responseHeaders,
          // PostgreSQL text cannot hold NUL bytes.
          response_body: a.responseBody?.replace(/\u0000/g, '') ?? null,
          error_kind: a.errorKind,
          error: a.error?.replace(/\u0000/g, '') ?? null,
        })),
      ),
    ],
  );
  const numbers = new Map(rows.map((r) => [r.id, r.attemptNumber]));
  return ids.map((id) => numbers.get(id)!);
}

/** Retention: deletes up to `limit` attempts started before `cutoff`; returns how many. */
export async function pruneBefore(tx: Tx, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await tx.query('delete from delivery_attempt where id in (select id from delivery_attempt where started_at < $1 limit $2)', [cutoff, limit]);
  return rowCount;
}

// (end of the delivery path section)
