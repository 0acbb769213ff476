import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeliveryStatus } from '../../src/domain/entities/Delivery.js';
import { decideOutcome } from '../../src/delivery/outcome.js';
import { JITTER, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/delivery/retry-policy.js';
import type { SendResult } from '../../src/delivery/sender.js';

const SCHEDULE = [0, 5_000, 300_000];
const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
/** With random = 0.5 the jitter is zero: the delay is the schedule's. */
const NO_JITTER = 0.5;

const sent = (result: Omit<SendResult, 'startedAt' | 'durationMs'>): SendResult => ({ startedAt: new Date(NOW), durationMs: 12, ...result });
const answered = (status: number, retryAfterMs?: number): SendResult =>
  sent(status >= 200 && status < 300 ? { status } : { status, retryAfterMs, errorKind: 'HTTP_STATUS', error: `receiver answered ${status}` });
const retryingIn = (delayMs: number, nextScheduleIndex: number, lastError: string) => ({
  status: DeliveryStatus.RETRYING,
  nextAttemptAt: new Date(NOW + delayMs),
  nextScheduleIndex,
  subscription: 'failure',
  lastError,
});

test('any 2xx succeeds and clears the failure streak', () => {
  for (const status of [200, 201, 202, 204, 299]) {
    assert.deepEqual(decideOutcome(answered(status), SCHEDULE, 0, NOW, NO_JITTER), {
      status: DeliveryStatus.SUCCEEDED,
      nextAttemptAt: null,
      nextScheduleIndex: null,
      subscription: 'success',
      lastError: null,
    }, String(status));
  }
  assert.equal(decideOutcome(answered(200), SCHEDULE, SCHEDULE.length - 1, NOW).status, DeliveryStatus.SUCCEEDED, 'also on the last attempt');
});

test('3xx (redirects are not followed) and 4xx other than 410 are retried on the schedule', () => {
  for (const status of [301, 302, 307, 308, 400, 401, 403, 404, 422]) {
    assert.deepEqual(decideOutcome(answered(status), SCHEDULE, 0, NOW, NO_JITTER), retryingIn(5_000, 1, `receiver answered ${status}`), String(status));
  }
  assert.deepEqual(decideOutcome(answered(500), SCHEDULE, 1, NOW, NO_JITTER), retryingIn(300_000, 2, 'receiver answered 500'));
});

test('the delay carries the retry policy’s jitter', () => {
  assert.deepEqual(decideOutcome(answered(500), SCHEDULE, 0, NOW, 0).nextAttemptAt, new Date(NOW + 5_000 * (1 - JITTER)));
});

test('410 Gone fails at once and disables the subscription, whatever the step', () => {
  const gone = { status: DeliveryStatus.FAILED, nextAttemptAt: null, nextScheduleIndex: null, subscription: 'gone', lastError: 'receiver answered 410' };
  assert.deepEqual(decideOutcome(answered(410), SCHEDULE, 0, NOW, NO_JITTER), gone);
  assert.deepEqual(decideOutcome(answered(410), SCHEDULE, SCHEDULE.length - 1, NOW, NO_JITTER), gone);
});

test('after the last step of the schedule a failure is final and counts against the subscription', () => {
  const last = SCHEDULE.length - 1;
  assert.deepEqual(decideOutcome(answered(503), SCHEDULE, last, NOW, NO_JITTER), {
    status: DeliveryStatus.FAILED,
    nextAttemptAt: null,
    nextScheduleIndex: null,
    subscription: 'failure',
    lastError: 'receiver answered 503',
  });
  assert.equal(decideOutcome(answered(503), SCHEDULE, last - 1, NOW, NO_JITTER).status, DeliveryStatus.RETRYING, 'one step earlier there is a retry left');
  assert.equal(decideOutcome(answered(500), [0], 0, NOW, NO_JITTER).status, DeliveryStatus.FAILED, 'a one-step schedule never retries');
});

test('a timeout or a network failure is retried like an error status, and keeps its message', () => {
  const timeout = sent({ errorKind: 'TIMEOUT', error: 'no response within 2000 ms' });
  assert.deepEqual(decideOutcome(timeout, SCHEDULE, 0, NOW, NO_JITTER), retryingIn(5_000, 1, 'no response within 2000 ms'));
  assert.equal(decideOutcome(timeout, SCHEDULE, SCHEDULE.length - 1, NOW, NO_JITTER).status, DeliveryStatus.FAILED);
  // Without a message the kind is recorded.
  assert.equal(decideOutcome(sent({ errorKind: 'CONNECTION' }), SCHEDULE, 0, NOW, NO_JITTER).lastError, 'CONNECTION');
});

test('Retry-After on 429 and 503, in seconds or as an HTTP date, postpones the retry; it is clamped to a day', () => {
  const inSeconds = parseRetryAfter('120', NOW);
  assert.deepEqual(decideOutcome(answered(429, inSeconds), SCHEDULE, 0, NOW, NO_JITTER), retryingIn(120_000, 1, 'receiver answered 429'));
  const atDate = parseRetryAfter(new Date(NOW + 600_000).toUTCString(), NOW);
  assert.deepEqual(decideOutcome(answered(503, atDate), SCHEDULE, 0, NOW, NO_JITTER), retryingIn(600_000, 1, 'receiver answered 503'));
  const aYear = parseRetryAfter(String(365 * 24 * 3600), NOW);
  assert.deepEqual(decideOutcome(answered(429, aYear), SCHEDULE, 0, NOW, NO_JITTER).nextAttemptAt, new Date(NOW + MAX_RETRY_AFTER_MS));
  // Sooner than the schedule, or a date in the past: the schedule wins.
  assert.deepEqual(decideOutcome(answered(429, parseRetryAfter('1', NOW)), SCHEDULE, 0, NOW, NO_JITTER).nextAttemptAt, new Date(NOW + 5_000));
  assert.deepEqual(decideOutcome(answered(429, parseRetryAfter(new Date(NOW - 60_000).toUTCString(), NOW)), SCHEDULE, 0, NOW, NO_JITTER).nextAttemptAt, new Date(NOW + 5_000));
  // Other statuses do not carry it.
  assert.deepEqual(decideOutcome(answered(500, 600_000), SCHEDULE, 0, NOW, NO_JITTER).nextAttemptAt, new Date(NOW + 5_000));
  // At the last step even a 429 is final: Retry-After does not add attempts.
  assert.equal(decideOutcome(answered(429, 60_000), SCHEDULE, SCHEDULE.length - 1, NOW, NO_JITTER).status, DeliveryStatus.FAILED);
});
