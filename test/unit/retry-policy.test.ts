import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JITTER, MAX_RETRY_AFTER_MS, MAX_SCHEDULE_DELAY_MS, MAX_SCHEDULE_ENTRIES, formatDelay, nextRetry, parseRetryAfter, parseRetrySchedule } from '../../src/delivery/retry-policy.js';

const SCHEDULE = [0, 5_000, 300_000, 1_800_000];
const http = (status: number, retryAfterMs?: number) => ({ kind: 'HTTP_STATUS' as const, status, retryAfterMs });

test('follows the schedule: the delay before attempt n+1 is schedule[n+1]', () => {
  assert.deepEqual(nextRetry(SCHEDULE, 0, http(500), 0.5), { retry: true, delayMs: 5_000, scheduleIndex: 1 });
  assert.deepEqual(nextRetry(SCHEDULE, 1, { kind: 'TIMEOUT' }, 0.5), { retry: true, delayMs: 300_000, scheduleIndex: 2 });
  assert.deepEqual(nextRetry(SCHEDULE, 2, { kind: 'CONNECTION' }, 0.5), { retry: true, delayMs: 1_800_000, scheduleIndex: 3 });
});

test('after the last attempt there is no retry', () => {
  assert.deepEqual(nextRetry(SCHEDULE, 3, http(500), 0.5), { retry: false, reason: 'SCHEDULE_EXHAUSTED' });
  assert.deepEqual(nextRetry([0], 0, { kind: 'DNS' }, 0.5), { retry: false, reason: 'SCHEDULE_EXHAUSTED' });
});

test('jitter stays within ±20 %', () => {
  assert.deepEqual(nextRetry(SCHEDULE, 0, http(500), 0), { retry: true, delayMs: 5_000 * (1 - JITTER), scheduleIndex: 1 });
  const high = nextRetry(SCHEDULE, 0, http(500), 0.999999);
  assert.ok(high.retry && high.delayMs <= 5_000 * (1 + JITTER) && high.delayMs > 5_900);
  for (let i = 0; i < 1000; i++) {
    const d = nextRetry(SCHEDULE, 1, http(502));
    assert.ok(d.retry && d.delayMs >= 240_000 && d.delayMs <= 360_000);
  }
});

test('410 Gone is never retried', () => {
  assert.deepEqual(nextRetry(SCHEDULE, 0, http(410), 0.5), { retry: false, reason: 'GONE' });
  assert.deepEqual(nextRetry(SCHEDULE, 0, { kind: 'GONE' }, 0.5), { retry: false, reason: 'GONE' });
});

test('Retry-After on 429 and 503 is honoured as a lower bound, bounded', () => {
  assert.deepEqual(nextRetry(SCHEDULE, 0, http(429, 60_000), 0.5), { retry: true, delayMs: 60_000, scheduleIndex: 1 });
  assert.deepEqual(nextRetry(SCHEDULE, 0, http(503, 60_000), 0.5), { retry: true, delayMs: 60_000, scheduleIndex: 1 });
  // A shorter Retry-After does not bring the schedule forward.
  assert.deepEqual(nextRetry(SCHEDULE, 0, http(429, 1_000), 0.5), { retry: true, delayMs: 5_000, scheduleIndex: 1 });
  // Only 429/503 carry it.
  assert.deepEqual(nextRetry(SCHEDULE, 0, http(500, 60_000), 0.5), { retry: true, delayMs: 5_000, scheduleIndex: 1 });
  const huge = nextRetry(SCHEDULE, 0, http(429, 10 * MAX_RETRY_AFTER_MS), 0.5);
  assert.ok(huge.retry && huge.delayMs === MAX_RETRY_AFTER_MS);
  // It does not add attempts: the last attempt stays the last.
  assert.deepEqual(nextRetry(SCHEDULE, 3, http(429, 1_000), 0.5), { retry: false, reason: 'SCHEDULE_EXHAUSTED' });
});

test('parses Retry-After as seconds or an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(['7'], now), 7_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('parses a retry schedule entry by entry, naming the bad one', () => {
  assert.deepEqual(parseRetrySchedule(['0', ' 200ms ', '1.5s', '5m', '2h', '1d']), { ok: true, schedule: [0, 200, 1_500, 300_000, 7_200_000, 86_400_000] });
  const bad = parseRetrySchedule(['0', '5s', 'later']);
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.index, 2);
  assert.match(!bad.ok ? bad.message : '', /entry 3 "later"/);
  const long = parseRetrySchedule(['0', '8d'], MAX_SCHEDULE_DELAY_MS);
  assert.equal(!long.ok && long.index, 1);
  assert.match(!long.ok ? long.message : '', /7d/);
  assert.equal(parseRetrySchedule([]).ok, false);
  assert.equal(parseRetrySchedule(Array.from({ length: MAX_SCHEDULE_ENTRIES + 1 }, () => '1s')).ok, false);
  assert.equal(parseRetrySchedule(Array.from({ length: MAX_SCHEDULE_ENTRIES }, () => '1s')).ok, true);
});

test('formats delays in the largest exact unit, so they parse back to the same schedule', () => {
  const schedule = [0, 200, 1_500, 5_000, 300_000, 7_200_000, 86_400_000, 90_000];
  assert.deepEqual(schedule.map(formatDelay), ['0', '200ms', '1500ms', '5s', '5m', '2h', '1d', '90s']);
  assert.deepEqual(parseRetrySchedule(schedule.map(formatDelay)), { ok: true, schedule });
});
