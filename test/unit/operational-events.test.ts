import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeliveryStatus } from '../../src/domain/entities/Delivery.js';
import { WebhookSubscriptionStatus } from '../../src/domain/entities/WebhookSubscription.js';
import { circuitChanged, isOperationalEventType, isSystemEventTypeName, SYSTEM_EVENT_TYPES } from '../../src/domain/operational-events.js';
import { jsonSchemaProblem } from '../../src/domain/json-schema.js';
import { operationalEvents } from '../../src/delivery/operational.js';
import type { AppliedAttempt, RecordedAttempts } from '../../src/delivery/record.js';

const SUB = { id: '018f0000-0000-7000-8000-0000000000aa', tenantId: '018f0000-0000-7000-8000-0000000000bb', url: 'https://example.com/hook' };

const NO_CIRCUITS = { opened: [], closed: [] };

function attempt(eventType: string, status: DeliveryStatus, effect: 'success' | 'failure' | 'gone', n = 1): AppliedAttempt {
  const row = { id: `018f0000-0000-7000-8000-00000000000${n}`, eventId: `018f0000-0000-7000-8000-0000000000e${n}`, tenantId: SUB.tenantId, webhookSubscriptionId: SUB.id, url: SUB.url, eventType };
  return {
    attempt: {
      row: row as never,
      claimedCount: 2,
      requestHeaders: {},
      result: { startedAt: new Date(), durationMs: 1, status: effect === 'gone' ? 410 : 500, errorKind: 'HTTP_STATUS', error: 'receiver answered 500' },
      outcome: { status, nextAttemptAt: null, nextScheduleIndex: null, subscription: effect, lastError: 'receiver answered 500' } as never,
    },
    attemptNumber: 3,
  };
}

test('a FAILED delivery raises hookgraph.delivery.failed; one of an operational event raises nothing', () => {
  const failed = attempt('order.created', DeliveryStatus.FAILED, 'failure', 1);
  const loop = attempt('hookgraph.delivery.failed', DeliveryStatus.FAILED, 'failure', 2);
  const events = operationalEvents({ applied: [failed, loop], disabled: [], failed: [failed, loop], circuits: NO_CIRCUITS });
  assert.equal(events.length, 1);
  assert.equal(events[0].eventType, 'hookgraph.delivery.failed');
  assert.equal(events[0].tenantId, SUB.tenantId);
  assert.deepEqual(events[0].payload, {
    webhookSubscriptionId: SUB.id,
    url: SUB.url,
    deliveryId: failed.attempt.row.id,
    eventId: failed.attempt.row.eventId,
    eventType: 'order.created',
    attemptCount: 3,
    lastResponseStatus: 500,
    lastError: 'receiver answered 500',
  });
});

test('a subscription disabled only by deliveries of operational events is not reported', () => {
  const subscription = { ...SUB, status: WebhookSubscriptionStatus.DISABLED as const };
  const byLoop: RecordedAttempts = { applied: [], disabled: [{ subscription, causes: [attempt('hookgraph.subscription.disabled', DeliveryStatus.FAILED, 'gone')] }], failed: [], circuits: NO_CIRCUITS };
  assert.deepEqual(operationalEvents(byLoop), []);
  const cause = attempt('order.created', DeliveryStatus.FAILED, 'gone', 4);
  const mixed: RecordedAttempts = { applied: [], disabled: [{ subscription, causes: [attempt('hookgraph.delivery.failed', DeliveryStatus.FAILED, 'gone', 3), cause] }], failed: [], circuits: NO_CIRCUITS };
  const [event] = operationalEvents(mixed);
  assert.equal(event.eventType, 'hookgraph.subscription.disabled');
  assert.deepEqual(event.payload, { webhookSubscriptionId: SUB.id, url: SUB.url, status: 'DISABLED', reason: 'GONE', deliveryId: cause.attempt.row.id, eventId: cause.attempt.row.eventId });
});

test('a circuit opened or closed by the tenant’s own deliveries raises circuit_opened / circuit_closed; one moved only by operational events raises nothing', () => {
  const own = attempt('order.created', DeliveryStatus.RETRYING, 'failure', 5);
  const opened = operationalEvents({ applied: [own], disabled: [], failed: [], circuits: { opened: [SUB], closed: [] } });
  assert.deepEqual(opened.map((e) => [e.eventType, (e.payload as { state: string }).state, (e.payload as { deliveryId: string }).deliveryId]), [['hookgraph.subscription.circuit_opened', 'OPEN', own.attempt.row.id]]);
  const probe = attempt('order.created', DeliveryStatus.SUCCEEDED, 'success', 6);
  const closed = operationalEvents({ applied: [probe], disabled: [], failed: [], circuits: { opened: [], closed: [SUB] } });
  assert.deepEqual(closed.map((e) => e.eventType), ['hookgraph.subscription.circuit_closed']);
  const loop = attempt('hookgraph.delivery.failed', DeliveryStatus.RETRYING, 'failure', 7);
  assert.deepEqual(operationalEvents({ applied: [loop], disabled: [], failed: [], circuits: { opened: [SUB], closed: [] } }), []);
});

test('the system event types: reserved namespace, valid schemas, circuit events for the breaker', () => {
  assert.equal(isSystemEventTypeName('hookgraph.anything'), true);
  assert.equal(isSystemEventTypeName('hookgraph'), true);
  assert.equal(isSystemEventTypeName('hookgraphs.created'), false);
  assert.equal(isOperationalEventType('hookgraph.test'), false, 'the test event is not operational');
  for (const type of SYSTEM_EVENT_TYPES) {
    assert.equal(jsonSchemaProblem(type.schema), undefined, type.name);
    assert.equal(isOperationalEventType(type.name), true);
  }
  const opened = circuitChanged(SUB, { state: 'OPEN', openedAt: new Date('2026-12-02T01:00:00Z'), nextProbeAt: new Date('2026-12-02T01:00:05Z') });
  assert.equal(opened.eventType, 'hookgraph.subscription.circuit_opened');
  assert.deepEqual(opened.payload, { webhookSubscriptionId: SUB.id, url: SUB.url, state: 'OPEN', openedAt: '2026-12-02T01:00:00.000Z', nextProbeAt: '2026-12-02T01:00:05.000Z' });
  assert.equal(circuitChanged(SUB, { state: 'CLOSED' }).eventType, 'hookgraph.subscription.circuit_closed');
});
