import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/delivery/rate-limit.js';

const T0 = 1_700_000_000_000;

test('the first send goes at once; each next one reserves the slot 1/rate after the previous', () => {
  const limiter = new RateLimiter();
  // 4 per second: slots 250 ms apart, all asked at the same instant.
  assert.deepEqual([0, 1, 2, 3, 4].map(() => limiter.reserve('sub', 4, T0)), [0, 250, 500, 750, 1000]);
});

test('no one-second window holds more than the rate (no burst after idling)', () => {
  const limiter = new RateLimiter();
  const rate = 10;
  const sendTimes: number[] = [];
  // Requests arrive in bursts with idle gaps; each is sent at now + its wait.
  for (const arrival of [0, 0, 0, 5, 5, 2_000, 2_000, 2_000, 2_000, 2_010, 9_000]) {
    for (let i = 0; i < 4; i++) sendTimes.push(T0 + arrival + limiter.reserve('sub', rate, T0 + arrival));
  }
  for (const start of sendTimes) {
    const inWindow = sendTimes.filter((t) => t >= start && t < start + 1000).length;
    assert.ok(inWindow <= rate, `${inWindow} sends in the second from ${start - T0} ms`);
  }
});

test('a slot in the past is not banked: after idling, the next send goes now and the one after 1/rate later', () => {
  const limiter = new RateLimiter();
  assert.equal(limiter.reserve('sub', 2, T0), 0);
  assert.equal(limiter.reserve('sub', 2, T0), 500);
  assert.equal(limiter.reserve('sub', 2, T0 + 10_000), 0, 'idle for 10 s');
  assert.equal(limiter.reserve('sub', 2, T0 + 10_000), 500);
});

test('a deferred delivery keeps its slot: coming back at it, the next one is still 1/rate later', () => {
  const limiter = new RateLimiter();
  limiter.reserve('sub', 1, T0);
  const wait = limiter.reserve('sub', 1, T0);
  assert.equal(wait, 1000);
  // The deferred delivery returns at its slot and is sent (it does not reserve again); a new one asks at that moment.
  assert.equal(limiter.reserve('sub', 1, T0 + wait), 1000);
});

test('subscriptions are limited independently', () => {
  const limiter = new RateLimiter();
  assert.equal(limiter.reserve('a', 1, T0), 0);
  assert.equal(limiter.reserve('a', 1, T0), 1000);
  assert.equal(limiter.reserve('b', 1, T0), 0);
  assert.equal(limiter.reserve('b', 100, T0), 1000, 'the slot already reserved at the old rate stands');
  assert.equal(limiter.reserve('b', 100, T0), 1010, 'later ones follow the new rate');
});

test('waits are whole milliseconds, rounded up, so a send never goes early', () => {
  const limiter = new RateLimiter();
  const waits = [0, 1, 2, 3].map(() => limiter.reserve('sub', 3, T0));
  assert.deepEqual(waits, [0, 334, 667, 1000]);
});

test('pruning past 100,000 subscriptions drops only idle ones: a live reservation survives it', () => {
  const limiter = new RateLimiter();
  for (let i = 0; i < 100_001; i++) limiter.reserve(`idle-${i}`, 1000, T0);
  limiter.reserve('busy', 1, T0 + 5_000);
  // Past the prune threshold, at a time when every idle slot has passed: the busy one keeps its reservation.
  for (let i = 0; i < 2; i++) limiter.reserve(`new-${i}`, 1, T0 + 5_000);
  assert.equal(limiter.reserve('busy', 1, T0 + 5_000), 1000);
  assert.equal(limiter.reserve('idle-0', 1000, T0 + 5_000), 0, 'an idle one starts afresh');
});
