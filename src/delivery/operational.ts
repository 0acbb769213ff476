import { circuitChanged, deliveryFailed, isOperationalEventType, subscriptionDisabled, type OperationalEvent } from '../domain/operational-events.js';
import type { RecordedAttempts } from './record.js';

/**
 * The operational events a batch of recorded attempts raises: one
 * `hookgraph.subscription.disabled` per subscription it disabled, one
 * `hookgraph.subscription.circuit_opened` / `circuit_closed` per circuit it
 * opened or closed, and one `hookgraph.delivery.failed` per delivery that
 * used up its schedule. Deliveries of operational events raise nothing (no
 * loops): a subscription disabled, or a circuit opened or closed, only by
 * such deliveries is not reported either.
 */
export function operationalEvents({ applied, disabled, failed, circuits }: RecordedAttempts): OperationalEvent[] {
  const raised: OperationalEvent[] = [];
  const now = new Date();
  for (const [refs, state] of [[circuits.opened, 'OPEN'], [circuits.closed, 'CLOSED']] as const) {
    for (const subscription of refs) {
      const causes = applied.filter((a) => a.attempt.row.webhookSubscriptionId === subscription.id);
      const cause = causes.find((a) => !isOperationalEventType(a.attempt.row.eventType));
      if (!cause) continue;
      raised.push(circuitChanged(subscription, { state, openedAt: state === 'OPEN' ? now : null }, { id: cause.attempt.row.id, eventId: cause.attempt.row.eventId }));
    }
  }
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
