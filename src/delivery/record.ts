import type { PoolClient } from 'pg';
import { uuidv7 } from '../domain/ids.js';
import { announce, type LiveMessage } from '../live/announce.js';
import { deliveryMessage, type DeliveryRow } from './claim.js';
import type { AttemptOutcome } from './outcome.js';
import type { SendResult } from './sender.js';

/** One finished HTTP attempt, ready to be written. */
export interface FinishedAttempt {
  row: DeliveryRow;
  attemptNumber: number;
  requestHeaders: Record<string, string>;
  result: SendResult;
  outcome: AttemptOutcome;
}

/**
 * Writes a batch of attempts and their consequences inside the caller's
 * transaction: attempt rows first (invariant 3), then delivery statuses, then
 * subscription health (410 → DISABLED; a failure streak longer than
 * `disableAfterMs` → FAILING_DISABLED), then announces every change.
 */
export async function recordAttempts(client: PoolClient, attempts: readonly FinishedAttempt[], disableAfterMs: number): Promise<void> {
  if (attempts.length === 0) return;
  await client.query(
    `insert into delivery_attempt (id, delivery_id, attempt_number, started_at, duration_ms, request_headers,
                                   response_status, response_headers, response_body, error_kind, error)
     select id, delivery_id, attempt_number, started_at, duration_ms, request_headers,
            response_status, response_headers, response_body, error_kind, error
       from json_to_recordset($1::json) as x(id uuid, delivery_id uuid, attempt_number int, started_at timestamptz,
            duration_ms int, request_headers jsonb, response_status int, response_headers jsonb,
            response_body text, error_kind text, error text)`,
    [
      JSON.stringify(
        attempts.map((a) => ({
          id: uuidv7(a.result.startedAt.getTime()),
          delivery_id: a.row.id,
          attempt_number: a.attemptNumber,
          started_at: a.result.startedAt,
          duration_ms: a.result.durationMs,
          request_headers: a.requestHeaders,
          response_status: a.result.status ?? null,
          response_headers: a.result.responseHeaders ?? null,
          // PostgreSQL text cannot hold NUL bytes.
          response_body: a.result.responseBody?.replace(/\u0000/g, '') ?? null,
          error_kind: a.result.errorKind ?? null,
          error: a.result.error ?? null,
        })),
      ),
    ],
  );
  await client.query(
    `update delivery d set status = x.status, attempt_count = x.attempt_count, next_attempt_at = x.next_attempt_at,
            last_response_status = x.last_response_status, last_error = x.last_error, updated_at = now()
       from json_to_recordset($1::json) as x(id uuid, status text, attempt_count int, next_attempt_at timestamptz,
            last_response_status int, last_error text)
      where d.id = x.id and d.id = any($2::uuid[])`,
    [
      JSON.stringify(
        attempts.map((a) => ({
          id: a.row.id,
          status: a.outcome.status,
          attempt_count: a.attemptNumber,
          next_attempt_at: a.outcome.nextAttemptAt,
          last_response_status: a.result.status ?? null,
          last_error: a.outcome.lastError,
        })),
      ),
      // The same ids again, so the plan is a primary-key lookup whatever the statistics say.
      attempts.map((a) => a.row.id),
    ],
  );
  const messages: LiveMessage[] = attempts.map((a) => deliveryMessage(a.row, a.outcome.status, a.attemptNumber));
  messages.push(...(await updateSubscriptionHealth(client, attempts, disableAfterMs)));
  await announce(client, messages);
}

function distinct(attempts: readonly FinishedAttempt[], effect: AttemptOutcome['subscription']): string[] {
  return [...new Set(attempts.filter((a) => a.outcome.subscription === effect).map((a) => a.row.webhook_subscription_id))];
}

/**
 * Health bookkeeping touches a subscription row only when something changes
 * (first failure of a streak, first success after one, at most one success
 * stamp per second), so a busy subscription's row is not a lock hot spot.
 */
async function updateSubscriptionHealth(client: PoolClient, attempts: readonly FinishedAttempt[], disableAfterMs: number): Promise<LiveMessage[]> {
  const succeeded = distinct(attempts, 'success');
  const failed = distinct(attempts, 'failure').filter((id) => !succeeded.includes(id));
  const gone = distinct(attempts, 'gone');
  const messages: LiveMessage[] = [];
  if (succeeded.length) {
    await client.query(
      `update webhook_subscription set last_success_at = now(), failing_since = null
        where id = any($1::uuid[]) and (failing_since is not null or last_success_at is null or last_success_at < now() - interval '1 second')`,
      [succeeded],
    );
  }
  if (failed.length) {
    await client.query(`update webhook_subscription set failing_since = now() where id = any($1::uuid[]) and failing_since is null`, [failed]);
    const { rows } = await client.query<{ id: string; tenant_id: string }>(
      `update webhook_subscription
          set status = 'FAILING_DISABLED', updated_at = now(),
              disabled_reason = 'every delivery failed since ' || to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        where id = any($1::uuid[]) and status = 'ENABLED' and failing_since < now() - $2::int * interval '1 millisecond'
        returning id, tenant_id`,
      [failed, disableAfterMs],
    );
    for (const row of rows) messages.push({ kind: 'webhookSubscription', tenantId: row.tenant_id, id: row.id, status: 'FAILING_DISABLED' });
  }
  if (gone.length) {
    const { rows } = await client.query<{ id: string; tenant_id: string }>(
      `update webhook_subscription
          set status = 'DISABLED', updated_at = now(),
              disabled_reason = 'the receiver answered 410 Gone at ' || to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        where id = any($1::uuid[]) and status = 'ENABLED'
        returning id, tenant_id`,
      [gone],
    );
    for (const row of rows) messages.push({ kind: 'webhookSubscription', tenantId: row.tenant_id, id: row.id, status: 'DISABLED' });
  }
  return messages;
}

