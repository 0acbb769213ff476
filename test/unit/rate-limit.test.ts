import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseClock, slotsOf } from '../../src/delivery/rate-limit.js';

/** The database clock of a reservation, in microseconds. */
const NOW_US = 1_700_000_000_000_000;

test('slots follow each other 1/rate apart from the first one', () => {
  // 4 per second, the budget idle: the first slot is now, the others 250 ms apart.
  const slots = slotsOf({ nowUs: NOW_US, firstWaitUs: 0, stepUs: 250_000 }, 5);
  assert.deepEqual(
    slots.map((s) => s.waitMs),
    [0, 250, 500, 750, 1000],
  );
  assert.deepEqual(
    slots.map((s) => s.at.getTime() - NOW_US / 1000),
    [0, 250, 500, 750, 1000],
  );
});

test('the first slot may lie ahead: what earlier batches reserved is waited for', () => {
  const slots = slotsOf({ nowUs: NOW_US, firstWaitUs: 1_500_000, stepUs: 500_000 }, 2);
  assert.deepEqual(
    slots.map((s) => s.waitMs),
    [1500, 2000],
  );
});

test('waits and start times are whole milliseconds, rounded up, so a send never goes early', () => {
  // 3 per second: the database rounds the step up to 333,334 µs.
  const slots = slotsOf({ nowUs: NOW_US + 400, firstWaitUs: 100, stepUs: 333_334 }, 4);
  assert.deepEqual(
    slots.map((s) => s.waitMs),
    [1, 334, 667, 1001],
  );
  for (const [i, slot] of slots.entries()) {
    const exactUs = NOW_US + 400 + 100 + i * 333_334;
    assert.ok(slot.at.getTime() * 1000 >= exactUs, `slot ${i} starts before its reserved time`);
    assert.ok(slot.at.getTime() * 1000 - exactUs < 1000, `slot ${i} starts a millisecond late`);
  }
});

test('a slot on a whole millisecond is not pushed one further', () => {
  // 10,000 per second: 100 µs steps; the tenth slot is exactly 1 ms away.
  const slots = slotsOf({ nowUs: NOW_US, firstWaitUs: 0, stepUs: 100 }, 11);
  assert.equal(slots[10].waitMs, 1);
  assert.equal(slots[10].at.getTime(), NOW_US / 1000 + 1);
  assert.deepEqual(
    slots.slice(1, 10).map((s) => s.waitMs),
    Array(9).fill(1),
  );
});

test('no one-second window holds more slots than the rate', () => {
  for (const [rate, stepUs] of [
    [3, 333_334],
    [7, 142_858],
    [10, 100_000],
  ]) {
    const at = slotsOf({ nowUs: NOW_US, firstWaitUs: 0, stepUs }, 50).map((s) => s.at.getTime());
    for (const start of at) {
      const inWindow = at.filter((t) => t >= start && t < start + 1000).length;
      assert.ok(inWindow <= rate, `${inWindow} slots in the second from ${start} at ${rate}/s`);
    }
  }
});

test('DatabaseClock turns a slot on the database clock into a wait on this process, whichever clock is ahead', () => {
  const clock = new DatabaseClock();
  clock.observe(10_000, 11_500); // this process is 1.5 s ahead
  assert.equal(clock.now(11_600), 10_100);
  assert.equal(clock.untilMs(10_300, 11_600), 200);
  assert.equal(clock.untilMs(10_000, 11_600), 0, 'a passed slot is due now');
  clock.observe(20_000, 19_000); // now 1 s behind
  assert.equal(clock.untilMs(20_250, 19_000), 250);
});

test('DatabaseClock keeps the largest recent reading: a slow answer makes the database look behind, never ahead', () => {
  const clock = new DatabaseClock(10_000);
  clock.observe(100_000, 100_000); // on time: offset 0
  clock.observe(100_000, 100_300); // an answer that took 300 ms to arrive
  assert.equal(clock.untilMs(100_500, 100_300), 200, 'the slow reading does not push the send later');
  // Past the window, the older reading no longer counts: a clock that drifts is followed.
  clock.observe(110_000, 110_200); // offset -200, 10 s later
  assert.equal(clock.now(110_200), 110_000);
});

test('DatabaseClock starts over when a reading is far below the others: a clock was stepped, not an answer slow', () => {
  const clock = new DatabaseClock(10_000);
  clock.observe(100_000, 100_000);
  clock.observe(100_000, 102_000); // this clock stepped 2 s ahead
  assert.equal(clock.now(102_000), 100_000);
});
