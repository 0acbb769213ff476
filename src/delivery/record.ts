import type { PoolClient } from 'pg';
import { uuidv7 } from '../domain/ids.js';
import type { LiveMessage } from '../live/announce.js';
import { deliveryMessage, type DeliveryRow } from './claim.js';
import type { AttemptOutcome } from './outcome.js';
import type { SendResult } from './sender.js';
import { announceAtCommit } from './transaction.js';

/** One finished HTTP attempt, ready to be written. */
export interface FinishedAttempt {
  row: DeliveryRow;
  /** The delivery's attempt_count when this worker claimed it (the fence of the outcome update). */
  claimedCount: number;
  requestHeaders: Record<string, string>;
  result: SendResult;
  outcome: AttemptOutcome;
}

/** An attempt whose outcome was applied to its delivery: the new attempt_count is `attemptNumber`. */
export interface AppliedAttempt<A extends FinishedAttempt = FinishedAttempt> {
  attempt: A;
  attemptNumber: number;
}

/**
 * Writes a batch of attempts and their consequences inside the caller's
 * transaction: attempt rows (invariant 3), delivery statuses, subscription
 * health (410 → DISABLED; a failure streak longer than `disableAfterMs` →
 * FAILING_DISABLED), then announces every change.
 *
 * The deliveries are locked first. One that vanished meanwhile (its
 * subscription was deleted) is skipped, so it cannot fail the batch on the
 * foreign key. An outcome is applied only while the delivery is still in the
 * state this worker claimed (SENDING at the claimed attempt count): a worker
 * whose job expired and was re-run elsewhere still records its HTTP try, but
 * cannot move the delivery back. Attempt numbers are the next free number of
 * the delivery, so such late tries never share a number with a real one.
 * Returns the applied attempts; only they may schedule retries.
 */
export async function recordAttempts<A extends FinishedAttempt>(client: PoolClient, attempts: readonly A[], disableAfterMs: number): Promise<AppliedAttempt<A>[]> {
  if (attempts.length === 0) return [];
  const ids = attempts.map((a) => a.row.id);
  // Subscriptions first: a subscription delete locks its row, then cascades to its deliveries; taking
  // the locks in the same order means it waits for this transaction instead of deadlocking with it.
  await client.query('select 1 from webhook_subscription where id = any($1::uuid[]) order by id for key share', [[...new Set(attempts.map((a) => a.row.webhook_subscription_id))]]);
  const { rows: locked } = await client.query<{ id: string; status: string; attempt_count: number }>(
    'select id, status, attempt_count from delivery where id = any($1::uuid[]) order by id for update',
    [ids],
  );
  const current = new Map(locked.map((r) => [r.id, r]));
  const present = attempts.filter((a) => current.has(a.row.id));
  if (present.length === 0) return [];
  // Under the row locks, a fresh statement sees every committed attempt: the next number is one past both the
  // highest recorded one and the delivery's count (attempts may have been pruned), so counts only ever grow.
  const { rows: numbered } = await client.query<{ delivery_id: string; attempt_number: number }>(
    `insert into delivery_attempt (id, delivery_id, attempt_number, started_at, duration_ms, request_headers,
                                   response_status, response_headers, response_body, error_kind, error)
     select x.id, x.delivery_id,
            greatest(coalesce((select max(a.attempt_number) from delivery_attempt a where a.delivery_id = x.delivery_id), 0), x.base) + 1,
            x.started_at, x.duration_ms, x.request_headers,
            x.response_status, x.response_headers, x.response_body, x.error_kind, x.error
       from json_to_recordset($1::json) as x(id uuid, delivery_id uuid, base int, started_at timestamptz,
            duration_ms int, request_headers jsonb, response_status int, response_headers jsonb,
            response_body text, error_kind text, error text)
     returning delivery_id, attempt_number`,
    [
      JSON.stringify(
        present.map((a) => ({
          id: uuidv7(a.result.startedAt.getTime()),
          delivery_id: a.row.id,
          base: current.get(a.row.id)!.attempt_count,
          started_at: a.result.startedAt,
          duration_ms: a.result.durationMs,
          request_headers: a.requestHeaders,
          response_status: a.result.status ?? null,
          response_headers: a.result.responseHeaders ?? null,
          // PostgreSQL text cannot hold NUL bytes.
          response_body: a.result.responseBody?.replace(/\u0000/g, '') ?? null,
          error_kind: a.result.errorKind ?? null,
          error: a.result.error?.replace(/\u0000/g, '') ?? null,
        })),
      ),
    ],
  );
  const numberOf = new Map(numbered.map((r) => [r.delivery_id, r.attempt_number]));
  // Still as claimed: checked here under the lock rather than in the update, so the update stays a primary-key lookup.
  const owned = present.filter((a) => {
    const row = current.get(a.row.id)!;
    return row.status === 'SENDING' && row.attempt_count === a.claimedCount;
  });
  const applied: AppliedAttempt<A>[] = owned.map((attempt) => ({ attempt, attemptNumber: numberOf.get(attempt.row.id)! }));
  if (applied.length) {
    await client.query(
      `update delivery d set status = x.status, attempt_count = x.attempt_count, next_attempt_at = x.next_attempt_at,
              last_response_status = x.last_response_status, last_error = x.last_error, updated_at = now()
         from json_to_recordset($1::json) as x(id uuid, status text, attempt_count int, next_attempt_at timestamptz,
              last_response_status int, last_error text)
        where d.id = x.id and d.id = any($2::uuid[])`,
      [
        JSON.stringify(
          applied.map(({ attempt: a, attemptNumber }) => ({
            id: a.row.id,
            status: a.outcome.status,
            attempt_count: attemptNumber,
            next_attempt_at: a.outcome.nextAttemptAt,
            last_response_status: a.result.status ?? null,
            last_error: a.outcome.lastError,
          })),
        ),
        // The same ids again, so the plan is a primary-key lookup whatever the statistics say.
        applied.map(({ attempt }) => attempt.row.id),
      ],
    );
  }
  const messages: LiveMessage[] = applied.map(({ attempt, attemptNumber }) => deliveryMessage(attempt.row, attempt.outcome.status, attemptNumber));
  messages.push(...(await updateSubscriptionHealth(client, applied.map((a) => a.attempt), disableAfterMs)));
  await announceAtCommit(client, messages);
  return applied;
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

