import { DeliveryStatus } from '../domain/entities/Delivery.js';
import { nextRetry, type ErrorKind } from './retry-policy.js';
import type { SendResult } from './sender.js';

/** What one attempt means for its delivery and its subscription. */
export interface AttemptOutcome {
  status: DeliveryStatus.SUCCEEDED | DeliveryStatus.RETRYING | DeliveryStatus.FAILED;
  /** When the next attempt is due (RETRYING only). */
  nextAttemptAt: Date | null;
  /** Schedule index of the next attempt (RETRYING only). */
  nextScheduleIndex: number | null;
  /** `success` clears a failure streak, `failure` extends it, `gone` (410) disables the subscription. */
  subscription: 'success' | 'failure' | 'gone';
  lastError: string | null;
}

/**
 * The rules: 2xx → SUCCEEDED; 410 → FAILED and the subscription disabled, no
 * retry; anything else → RETRYING on the schedule (Retry-After honoured for
 * 429/503), or FAILED after the last attempt.
 */
export function decideOutcome(result: SendResult, schedule: readonly number[], scheduleIndex: number, now: number, random: number = Math.random()): AttemptOutcome {
  if (!result.errorKind) {
    return { status: DeliveryStatus.SUCCEEDED, nextAttemptAt: null, nextScheduleIndex: null, subscription: 'success', lastError: null };
  }
  const kind: ErrorKind = result.status === 410 ? 'GONE' : result.errorKind;
  const decision = nextRetry(schedule, scheduleIndex, { kind, status: result.status, retryAfterMs: result.retryAfterMs }, random);
  const lastError = result.error ?? kind;
  if (!decision.retry) {
    return { status: DeliveryStatus.FAILED, nextAttemptAt: null, nextScheduleIndex: null, subscription: decision.reason === 'GONE' ? 'gone' : 'failure', lastError };
  }
  return {
    status: DeliveryStatus.RETRYING,
    nextAttemptAt: new Date(now + decision.delayMs),
    nextScheduleIndex: decision.scheduleIndex,
    subscription: 'failure',
    lastError,
  };
}
