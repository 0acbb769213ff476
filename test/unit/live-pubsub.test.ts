import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LivePubSub } from '../../src/live/pubsub.js';

const message = (tenantId: string, n: number) => ({ kind: 'event' as const, tenantId, id: String(n), eventType: 't' });

test('topics are split by tenant', async () => {
  const pubsub = new LivePubSub();
  const a = pubsub.subscribe('event', 'a');
  const b = pubsub.subscribe('event', 'b');
  pubsub.publish('event', 'a', message('a', 1));
  assert.deepEqual((await a.next()).value, message('a', 1));
  assert.equal(b.buffered, 0);
});

test('a subscriber that does not read overflows alone; others keep receiving', async () => {
  const pubsub = new LivePubSub(3);
  let overflowed = 0;
  const slow = pubsub.subscribe('event', 't', { onOverflow: () => overflowed++ });
  const fast = pubsub.subscribe('event', 't');
  const received: string[] = [];
  for (let n = 0; n < 10; n++) {
    pubsub.publish('event', 't', message('t', n));
    received.push((await fast.next()).value!.id);
  }
  assert.equal(overflowed, 1);
  assert.equal(slow.done, true);
  assert.equal(received.length, 10);
  assert.equal(pubsub.subscriberCount, 1);
  // The overflowed subscriber ends: buffered messages are dropped with it.
  assert.deepEqual(await slow.next(), { value: undefined, done: true });
});

test('return() ends a pending next() and detaches', async () => {
  const pubsub = new LivePubSub();
  const sub = pubsub.subscribe('delivery', 't');
  const pending = sub.next();
  await sub.return();
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.equal(pubsub.subscriberCount, 0);
});

test('a long queue is taken in order', async () => {
  const pubsub = new LivePubSub();
  const sub = pubsub.subscribe('event', 't');
  for (let n = 0; n < 5000; n++) pubsub.publish('event', 't', message('t', n));
  for (let n = 0; n < 5000; n++) assert.equal((await sub.next()).value!.id, String(n));
});
