import * as attempts from '../store/attempts.js';
import type { Tx } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import * as webhookSubscriptions from '../store/webhook-subscriptions.js';
import type { AttemptOutcome } from './outcome.js';
import type { SendResult } from './sender.js';

/** One finished HTTP attempt, ready to be written. */
export interface FinishedAttempt {
  row: deliveries.DueDelivery;
  /** The delivery's attempt_count when this worker claimed it (the fence of the outcome update). */
  claimedCount: number;
  requestHeaders: Record<string, string>;
  result: SendResult;
  outcome: AttemptOutcome;
  /** Sent as the probe of its subscription's open circuit. */
  probe?: boolean;
}

/** An attempt whose outcome was applied to its delivery: the new attempt_count is `attemptNumber`. */
export interface AppliedAttempt<A extends FinishedAttempt = FinishedAttempt> {
  attempt: A;
  attemptNumber: number;
}

/** A subscription the batch disabled, with the attempts that did it (410s, or failures past the window). */
export interface DisabledBy<A extends FinishedAttempt = FinishedAttempt> {
  subscription: webhookSubscriptions.DisabledSubscription;
  causes: AppliedAttempt<A>[];
}

/** What a batch of attempts changed, for the operational events about it. */
export interface RecordedAttempts<A extends FinishedAttempt = FinishedAttempt> {
  applied: AppliedAttempt<A>[];
  /** Subscriptions set DISABLED (410) or FAILING_DISABLED by this batch. */
  disabled: DisabledBy<A>[];
  /** Deliveries this batch made FAILED because they used up their retry schedule (a 410 is not that). */
  failed: AppliedAttempt<A>[];
  /** Circuits the batch opened and closed (see delivery/circuit.ts). */
  circuits: { opened: webhookSubscriptions.SubscriptionRef[]; closed: webhookSubscriptions.SubscriptionRef[] };
}

/**
 * Writes a batch of attempts and their consequences inside `tx`: attempt rows
 * (invariant 3), delivery statuses, subscription health (410 → DISABLED; a
 * failure streak longer than `disableAfterMs` → FAILING_DISABLED; failures in
 * a row → circuit open; a success → circuit closed; a failed probe → next
 * probe further off); the store announces every change.
 *
 * The deliveries are locked first (after their subscriptions, in a
 * subscription delete's order). One that vanished meanwhile (its subscription
 * was deleted) is skipped, so it cannot fail the batch on the foreign key. An
 * outcome is applied only while the delivery is still in the state this
 * worker claimed (SENDING at the claimed attempt count): a worker whose job
 * expired and was re-run elsewhere still records its HTTP try, but cannot
 * move the delivery back. Attempt numbers are the next free number of the
 * delivery, so such late tries never share a number with a real one; two
 * attempts of one delivery in the batch (both claimed at the same count) are
 * numbered in the order they finished, and only the last one is applied.
 * Returns the applied attempts (only they may schedule retries, and only
 * they count for health), the subscriptions it disabled, the deliveries that
 * FAILED, and the circuits opened and closed.
 */
export async function recordAttempts<A extends FinishedAttempt>(tx: Tx, finished: readonly A[], policy: webhookSubscriptions.HealthPolicy): Promise<RecordedAttempts<A>> {
  const none: RecordedAttempts<A> = { applied: [], disabled: [], failed: [], circuits: { opened: [], closed: [] } };
  if (finished.length === 0) return none;
  await webhookSubscriptions.lockForDeliveries(tx, finished.map((a) => a.row.webhookSubscriptionId));
  const current = await deliveries.lockForOutcome(tx, finished.map((a) => a.row.id));
  const present = finished.filter((a) => current.has(a.row.id));
  if (present.length === 0) return none;
  // In the order they finished: of a delivery's attempts in one batch (a job re-run while its first run was
  // still sending), the later one gets the higher number and decides the delivery's state.
  const byFinish = [...present].sort((x, y) => finishedAt(x) - finishedAt(y));
  const numbers = await attempts.insertNumbered(
    tx,
    byFinish.map((a) => ({
      deliveryId: a.row.id,
      base: current.get(a.row.id)!.attemptCount,
      startedAt: a.result.startedAt,
      durationMs: a.result.durationMs,
      requestHeaders: a.requestHeaders,
      responseStatus: a.result.status ?? null,
      responseHeaders: a.result.responseHeaders ?? null,
      responseBody: a.result.responseBody ?? null,
      errorKind: a.result.errorKind ?? null,
      error: a.result.error ?? null,
    })),
  );
  const numberOf = new Map(byFinish.map((a, i) => [a, numbers[i]]));
  // Still as claimed: checked here under the lock rather than in the update, so the update stays a primary-key lookup.
  const deciding = new Map<string, A>();
  for (const a of byFinish) {
    const row = current.get(a.row.id)!;
    if (row.status === 'SENDING' && row.attemptCount === a.claimedCount) deciding.set(a.row.id, a);
  }
  const owned = present.filter((a) => deciding.get(a.row.id) === a);
  const applied: AppliedAttempt<A>[] = owned.map((attempt) => ({ attempt, attemptNumber: numberOf.get(attempt)! }));
  await deliveries.applyOutcomes(
    tx,
    applied.map(({ attempt: a, attemptNumber }) => ({
      delivery: a.row,
      status: a.outcome.status,
      attemptCount: attemptNumber,
      nextAttemptAt: a.outcome.nextAttemptAt,
      lastResponseStatus: a.result.status ?? null,
      lastError: a.outcome.lastError,
    })),
  );
  const succeeded = subscriptionsWith(applied, 'success');
  const failures = new Map<string, number>();
  for (const { attempt } of applied) {
    const id = attempt.row.webhookSubscriptionId;
    if (attempt.outcome.subscription === 'failure' && !succeeded.includes(id)) failures.set(id, (failures.get(id) ?? 0) + 1);
  }
  const health = await webhookSubscriptions.recordHealth(
    tx,
    {
      succeeded,
      failed: [...failures].map(([id, count]) => ({ id, failures: count })),
      gone: subscriptionsWith(applied, 'gone'),
      failedProbes: applied
        .filter(({ attempt }) => attempt.probe && attempt.outcome.subscription !== 'success')
        .map(({ attempt }) => ({ id: attempt.row.webhookSubscriptionId, deliveryId: attempt.row.id })),
    },
    policy,
  );
  return {
    applied,
    disabled: health.disabled.map((subscription) => {
      const effect = subscription.status === 'DISABLED' ? 'gone' : 'failure';
      return { subscription, causes: applied.filter((a) => a.attempt.row.webhookSubscriptionId === subscription.id && a.attempt.outcome.subscription === effect) };
    }),
    failed: applied.filter((a) => a.attempt.outcome.status === 'FAILED' && a.attempt.outcome.subscription === 'failure'),
    circuits: { opened: health.opened, closed: health.closed },
  };
}

function finishedAt(a: FinishedAttempt): number {
  return a.result.startedAt.getTime() + a.result.durationMs;
}

function subscriptionsWith(applied: readonly AppliedAttempt[], effect: AttemptOutcome['subscription']): string[] {
  return [...new Set(applied.filter((a) => a.attempt.outcome.subscription === effect).map((a) => a.attempt.row.webhookSubscriptionId))];
}
