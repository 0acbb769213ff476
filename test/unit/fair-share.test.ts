import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CapCache, FairShare, type Shared } from '../../src/delivery/fair-share.js';

interface J extends Shared {
  n: number;
}

let counter = 0;
const job = (subscription: string | null, fetchedAt = 0, ordered = false): J => ({ n: counter++, subscription, ordered, fetchedAt });
const jobs = (count: number, subscription: string | null, fetchedAt = 0): J[] => Array.from({ length: count }, () => job(subscription, fetchedAt));

function fetchInto(share: FairShare<J>, fetched: J[], ordered = false): J[] {
  const reserved = share.reserve(ordered, fetched.length);
  assert.ok(reserved >= fetched.length, `reserved ${reserved} for ${fetched.length}`);
  return share.admit(fetched, reserved, ordered);
}

test('a subscription runs at most its cap; the rest is held, takes no slot, and starts as its attempts finish', () => {
  const share = new FairShare<J>({ inFlight: 100, perSubscription: 3 }, () => null);
  const batch = jobs(5, 'slow');
  const started = fetchInto(share, batch);
  assert.deepEqual(started, batch.slice(0, 3));
  assert.equal(share.held, 2);
  assert.equal(share.inFlight, 3);
  assert.deepEqual(share.saturated(), ['slow']);

  // Another subscription's jobs start at once.
  const other = jobs(3, 'fast');
  assert.deepEqual(fetchInto(share, other), other);
  assert.deepEqual(share.startable(), [], 'nothing held may start while its subscription is at its cap');

  share.release(started[0]);
  assert.deepEqual(share.startable(), [batch[3]], 'the oldest held job takes the freed place');
  assert.equal(share.held, 1);
});

test("a subscription's maxInFlight lowers its cap, never raises it above the worker's share", () => {
  const caps = new Map<string, number>([['one', 1], ['many', 1000]]);
  const share = new FairShare<J>({ inFlight: 100, perSubscription: 4 }, (id) => caps.get(id));
  assert.equal(share.cap('one'), 1);
  assert.equal(share.cap('many'), 4);
  assert.equal(share.cap('unknown'), 4);
  assert.equal(fetchInto(share, jobs(3, 'one')).length, 1);
  assert.equal(fetchInto(share, jobs(10, 'many')).length, 4);
});

test('a newly fetched job of a subscription with held jobs waits behind them', () => {
  const share = new FairShare<J>({ inFlight: 100, perSubscription: 1 }, () => null);
  const [first, second] = fetchInto(share, jobs(2, 's')).concat(share.startable());
  assert.ok(first && !second);
  share.release(first);
  const late = job('s');
  assert.deepEqual(fetchInto(share, [late]), [], 'held: an older job of the same subscription is waiting');
  assert.equal(share.startable().length, 1);
  assert.equal(share.held, 1);
});

test('unordered jobs leave a reserve that only the ordered queue may use', () => {
  const share = new FairShare<J>({ inFlight: 20, perSubscription: 100 }, () => null);
  assert.equal(share.orderedReserve, 2);
  assert.equal(share.reserve(false, 100), 18);
  assert.equal(share.reserve(false, 100), 0);
  assert.equal(share.reserve(true, 100), 2);
});

test('ordered jobs are never held, but count in their subscription', () => {
  const share = new FairShare<J>({ inFlight: 100, perSubscription: 1 }, () => null);
  const ordered = job('s', 0, true);
  assert.deepEqual(fetchInto(share, [ordered], true), [ordered]);
  assert.deepEqual(share.saturated(), ['s']);
  assert.deepEqual(fetchInto(share, [job('s')]), []);
});

test('fetch reservations: never beyond the free slots, and small ones wait while attempts run', () => {
  const share = new FairShare<J>({ inFlight: 10, perSubscription: 100 }, () => null);
  assert.equal(share.reserve(true, 4), 4);
  assert.equal(share.reserve(true, 100), 6);
  assert.equal(share.reserve(true, 100), 0);
  share.unreserve(true, 6);
  share.admit(jobs(4, null), 4, true);
  assert.equal(share.reserve(true, 100, 8), 0, 'only 6 free while 4 run: wait for more');
  assert.equal(share.reserve(true, 100, 6), 6);
});

test('held jobs past their time come out, oldest first, and the subscription is fetched again', () => {
  const share = new FairShare<J>({ inFlight: 100, perSubscription: 1 }, () => null);
  const running = fetchInto(share, [job('s', 0)]);
  fetchInto(share, [job('s', 10), job('s', 20)]);
  const expired = share.expired(15);
  assert.deepEqual(expired.map((j) => j.fetchedAt), [10]);
  assert.equal(share.held, 1);
  assert.deepEqual(share.takeHeld().map((j) => j.fetchedAt), [20]);
  share.release(running[0]);
  assert.deepEqual(share.saturated(), []);
  assert.equal(share.inFlight, 0);
});

test('held jobs start round robin across subscriptions while unordered slots last', () => {
  const share = new FairShare<J>({ inFlight: 4, perSubscription: 1 }, () => null);
  const a = fetchInto(share, jobs(3, 'a'));
  const b = fetchInto(share, jobs(3, 'b'));
  assert.equal(a.length + b.length, 2);
  share.release(a[0]);
  share.release(b[0]);
  const started = share.startable();
  assert.deepEqual(started.map((j) => j.subscription).sort(), ['a', 'b']);
});

test('the cap cache reports unknown and old entries', () => {
  const cache = new CapCache(1000);
  cache.set('a', 5, 0);
  cache.set('b', null, 900);
  assert.deepEqual(cache.stale(['a', 'b', 'c', 'c'], 1500), ['a', 'c']);
  assert.equal(cache.get('a'), 5);
  assert.equal(cache.get('b'), null);
  assert.equal(cache.get('c'), undefined);
});
