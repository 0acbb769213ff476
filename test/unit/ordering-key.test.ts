import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ORDERED_DELIVERY_QUEUE, ORDERED_DELIVERY_QUEUES, byQueue, deliveryJob, queueFor } from '../../src/delivery/jobs.js';
import { requeueOrdering } from '../../src/delivery/operations.js';
import { MAX_ORDERING_KEY, orderingKeyHash, orderingKeyProblem, valueAt } from '../../src/domain/ordering-key.js';

const SUB = '01938a6e-0000-7000-8000-000000000001';

test('a path is dotted segments into the delivered body', () => {
  for (const ok of ['data.orderId', 'type', 'data.lines.0.sku', 'data.$ref', 'data.order-id', 'data.a_b']) assert.equal(orderingKeyProblem(ok), null, ok);
  for (const bad of ['orderId', 'payload.orderId', 'data.', '.data', 'data..x', 'data.a b', 'data.ä', 'data.' + 'x'.repeat(MAX_ORDERING_KEY)]) {
    assert.equal(typeof orderingKeyProblem(bad), 'string', bad);
  }
  assert.match(orderingKeyProblem('orderId')!, /data\.orderId/);
});

test('the value at a path: own properties only, array indexes, null is no value', () => {
  const body = { id: 'e1', type: 't', data: { orderId: 'A', n: 0, nothing: null, lines: [{ sku: 'S' }], nested: Object.create({ inherited: 1 }) } };
  assert.equal(valueAt(body, 'data.orderId'), 'A');
  assert.equal(valueAt(body, 'data.n'), 0);
  assert.equal(valueAt(body, 'data.lines.0.sku'), 'S');
  assert.equal(valueAt(body, 'data.nothing'), undefined);
  assert.equal(valueAt(body, 'data.missing.deeper'), undefined);
  assert.equal(valueAt(body, 'data.nested.inherited'), undefined);
  assert.equal(valueAt(body, 'data.orderId.length'), undefined);
  assert.equal(valueAt(body, 'data.constructor'), undefined);
});

test('key hashes are short, per subscription, and tell 1 from "1"', () => {
  const h = orderingKeyHash(SUB, 'A');
  assert.equal(h, orderingKeyHash(SUB, 'A'));
  assert.ok(h.length <= 22 && !h.includes('A'.repeat(2)));
  assert.notEqual(orderingKeyHash(SUB, 1), orderingKeyHash(SUB, '1'));
  assert.notEqual(orderingKeyHash(SUB, 'A'), orderingKeyHash(SUB.replace(/1$/, '2'), 'A'));
});

test('ordered jobs are keyed by the subscription, or by the subscription and the key hash', () => {
  const base = { deliveryId: '01938a6e-0000-7000-8000-0000000000aa', attemptCount: 0, scheduleIndex: 0, webhookSubscriptionId: SUB };
  assert.equal(deliveryJob({ ...base, ordered: true }).singletonKey, SUB);
  assert.equal(deliveryJob({ ...base, ordered: true, orderingKey: 'h1' }).singletonKey, `${SUB}:h1`);
  assert.equal(deliveryJob({ ...base, ordered: false }).singletonKey, undefined);
  assert.equal(queueFor(true, base.deliveryId), ORDERED_DELIVERY_QUEUE);
});

test('keyed deliveries spread over the ordered queues, every job of one key in one queue', () => {
  const hashes = Array.from({ length: 400 }, (_, i) => orderingKeyHash(SUB, i));
  const used = new Map<string, number>();
  for (const hash of hashes) {
    const queues = new Set(['01938a6e-0000-7000-8000-0000000000a1', '01938a6e-0000-7000-8000-0000000000b2'].map((id) => queueFor(true, id, hash)));
    assert.equal(queues.size, 1, 'one queue per key, whatever the delivery id');
    const [queue] = queues;
    used.set(queue, (used.get(queue) ?? 0) + 1);
  }
  assert.deepEqual([...used.keys()].sort(), [...ORDERED_DELIVERY_QUEUES].sort());
  for (const n of used.values()) assert.ok(n > 50, `${n} of 400 keys in one queue`);
  const jobs = byQueue([{ deliveryId: '01938a6e-0000-7000-8000-0000000000a1', attemptCount: 0, scheduleIndex: 0, webhookSubscriptionId: SUB, ordered: true, orderingKey: hashes[0] }]);
  assert.deepEqual([...jobs.keys()], [queueFor(true, 'x', hashes[0])]);
});

test('a re-queued delivery is ordered by the subscription as it is now, under the key it was published with', () => {
  const row = { id: 'd', tenantId: 't', eventId: 'e', webhookSubscriptionId: SUB, status: 'FAILED', attemptCount: 1 } as const;
  assert.deepEqual(requeueOrdering({ ...row, ordered: false, keyed: true, orderingKey: 'h1' } as never), { ordered: true, orderingKey: 'h1' });
  assert.deepEqual(requeueOrdering({ ...row, ordered: false, keyed: true, orderingKey: null } as never), { ordered: false, orderingKey: null });
  assert.deepEqual(requeueOrdering({ ...row, ordered: true, keyed: false, orderingKey: 'h1' } as never), { ordered: true, orderingKey: null });
  assert.deepEqual(requeueOrdering({ ...row, ordered: false, keyed: false, orderingKey: 'h1' } as never), { ordered: false, orderingKey: null });
});
