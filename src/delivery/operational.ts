import { deliveryFailed, isOperationalEventType, subscriptionDisabled, type OperationalEvent } from '../domain/operational-events.js';
import type { RecordedAttempts } from './record.js';

/**
 * The operational events a batch of recorded attempts raises: one
 * `hookgraph.subscription.disabled` per subscription it disabled and one
 * `hookgraph.delivery.failed` per delivery that used up its schedule.
 * Deliveries of operational events raise nothing (no loops): a subscription
 * disabled only by such deliveries is not reported either.
 */
export function operationalEvents({ disabled, failed }: RecordedAttempts): OperationalEvent[] {
  const raised: OperationalEvent[] = [];
  for (const { subscription, causes } of disabled) {
    const cause = causes.find((a) => !isOperationalEventType(a.attempt.row.eventType));
    if (!cause) continue;
    raised.push(subscriptionDisabled(subscription, subscription.status, { id: cause.attempt.row.id, eventId: cause.attempt.row.eventId }));
  }
  for (const { attempt, attemptNumber } of failed) {
    const { row } = attempt;
    if (isOperationalEventType(row.eventType)) continue;
    raised.push(
      deliveryFailed(
        { tenantId: row.tenantId, id: row.webhookSubscriptionId, url: row.url },
        { id: row.id, eventId: row.eventId, eventType: row.eventType, attemptCount: attemptNumber, lastResponseStatus: attempt.result.status ?? null, lastError: attempt.outcome.lastError },
      ),
    );
  }
  return raised;
}
