import type { Pool, PoolClient } from 'pg';
import { DeliveryStatus } from '../domain/entities/Delivery.js';
import { announce, type LiveMessage } from '../live/announce.js';
import { announceAtCommit } from './transaction.js';

/** A delivery as the worker loads it: the delivery, its event's wire body and its subscription. */
export interface DeliveryRow {
  id: string;
  tenant_id: string;
  event_id: string;
  webhook_subscription_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  body: string;
  url: string;
  headers: Record<string, string> | null;
  subscription_status: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | string | null;
  rate_limit_per_second: number | null;
  ordered: boolean;
  /** The publish span's W3C traceparent, when the event was published with tracing on. */
  traceparent: string | null;
  /** When the event was published (its row's created_at): the start of the publish → success latency. */
  published_at: Date | string;
}

/*
 * Batches are addressed as `id = any($1)`, and every other condition is kept
 * out of the planner's reach (inside CASE or a scalar subquery), so the only
 * plan is the primary-key lookup. Statistics lag far behind a queue table:
 * with a join on `unnest(...)`, or a plain `status in (...)`, the planner
 * took "few deliveries are PENDING" at its word and scanned every delivery
 * of the subscription instead (35 ms for a batch of 100).
 */
/** Due: not finished, and the attempt count is the one the job ($2, parallel to $1) was made for. */
const DUE = `(case when d.status in ('PENDING', 'RETRYING', 'SENDING') then d.attempt_count = ($2::int[])[array_position($1::uuid[], d.id)] else false end)`;

/** States in which a job may (still) make its attempt; SENDING means a worker died mid-attempt. */
export const CLAIMABLE: ReadonlySet<string> = new Set([DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING]);

const ROW_COLUMNS = `d.id, d.tenant_id, d.event_id, d.webhook_subscription_id, d.status, d.attempt_count,
  e.body, e.created_at as published_at, s.url, s.headers, s.status as subscription_status, s.secret_encrypted,
  s.previous_secret_encrypted, s.previous_secret_expires_at, s.rate_limit_per_second, s.ordered, e.traceparent`;

/**
 * The common case in one statement: marks SENDING every delivery of the batch
 * that is due (attempt count matches the job, not finished), whose
 * subscription is ENABLED and not rate limited, and returns what sending
 * needs. Whatever it leaves out goes through the careful path
 * (`loadDeliveries` + `markSending`). Announces the claimed ones.
 */
export async function claimDue(client: PoolClient, jobs: readonly { id: string; attemptCount: number }[]): Promise<DeliveryRow[]> {
  if (jobs.length === 0) return [];
  const { rows } = await client.query<DeliveryRow>(
    `with d as (
       update delivery d set status = 'SENDING', updated_at = now()
        where d.id = any($1::uuid[]) and ${DUE}
          and (select s.status = 'ENABLED' and s.rate_limit_per_second is null from webhook_subscription s where s.id = d.webhook_subscription_id)
        returning d.*
     )
     select ${ROW_COLUMNS} from d join event e on e.id = d.event_id join webhook_subscription s on s.id = d.webhook_subscription_id`,
    [jobs.map((j) => j.id), jobs.map((j) => j.attemptCount)],
  );
  await announceAtCommit(client, rows.map((row) => deliveryMessage(row, DeliveryStatus.SENDING, row.attempt_count)));
  return rows;
}

export async function loadDeliveries(pool: Pool, ids: readonly string[]): Promise<Map<string, DeliveryRow>> {
  const { rows } = await pool.query<DeliveryRow>(
    `select ${ROW_COLUMNS}
       from delivery d
       join event e on e.id = d.event_id
       join webhook_subscription s on s.id = d.webhook_subscription_id
      where d.id = any($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

export function deliveryMessage(row: Pick<DeliveryRow, 'tenant_id' | 'id' | 'event_id' | 'webhook_subscription_id'>, status: string, attemptCount: number): LiveMessage {
  return { kind: 'delivery', tenantId: row.tenant_id, id: row.id, eventId: row.event_id, webhookSubscriptionId: row.webhook_subscription_id, status, attemptCount };
}

/**
 * Marks deliveries SENDING, fenced on the attempt count the job was made for,
 * and announces it. Returns the ids actually claimed (a concurrent retry or
 * replay may have moved a delivery on).
 */
export async function markSending(client: PoolClient, claims: readonly { row: DeliveryRow; attemptCount: number }[]): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const { rows } = await client.query<{ id: string }>(
    `update delivery d set status = 'SENDING', updated_at = now() where d.id = any($1::uuid[]) and ${DUE} returning d.id`,
    [claims.map((c) => c.row.id), claims.map((c) => c.attemptCount)],
  );
  const claimed = new Set(rows.map((r) => r.id));
  await announce(
    client,
    claims.filter((c) => claimed.has(c.row.id)).map((c) => deliveryMessage(c.row, DeliveryStatus.SENDING, c.attemptCount)),
  );
  return claimed;
}

/**
 * Deliveries whose subscription is no longer ENABLED are cancelled without an
 * attempt, fenced like a claim on the attempt count the rows were read at (a
 * row another worker has moved on meanwhile is left alone).
 */
export async function cancelDeliveries(client: PoolClient, rows: readonly DeliveryRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { rows: cancelled } = await client.query<{ id: string }>(
    `update delivery d set status = 'CANCELLED', next_attempt_at = null, last_error = 'subscription is not enabled', updated_at = now()
      where d.id = any($1::uuid[]) and ${DUE} returning d.id`,
    [rows.map((r) => r.id), rows.map((r) => r.attempt_count)],
  );
  const ids = new Set(cancelled.map((r) => r.id));
  await announce(client, rows.filter((r) => ids.has(r.id)).map((r) => deliveryMessage(r, DeliveryStatus.CANCELLED, r.attempt_count)));
}
