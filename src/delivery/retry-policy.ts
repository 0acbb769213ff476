/**
 * When to try a delivery again: a pure function of where the delivery is in
 * the retry schedule, how the attempt failed and what the receiver asked for
 * (Retry-After), with ±20 % jitter. Unit-tested in test/unit/retry-policy.test.ts.
 */
/** INTERNAL: hookgraph itself failed before sending (e.g. a signing secret that no longer opens). */
export type ErrorKind = 'HTTP_STATUS' | 'TIMEOUT' | 'CONNECTION' | 'DNS' | 'TLS' | 'BLOCKED_TARGET' | 'INVALID_URL' | 'GONE' | 'INTERNAL';

export interface AttemptFailure {
  kind: ErrorKind;
  /** HTTP status, when there was a response. */
  status?: number;
  /** Delay the receiver asked for (429/503 Retry-After), ms. */
  retryAfterMs?: number;
}

export type RetryDecision = { retry: true; delayMs: number; scheduleIndex: number } | { retry: false; reason: 'SCHEDULE_EXHAUSTED' | 'GONE' };

export const JITTER = 0.2;
/** Retry-After is honoured up to this long; a longer request waits this long. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * @param schedule delay before each attempt (index 0 is the first attempt)
 * @param scheduleIndex index of the attempt that just failed
 * @param random a number in [0, 1) (Math.random in production)
 */
export function nextRetry(schedule: readonly number[], scheduleIndex: number, failure: AttemptFailure, random: number = Math.random()): RetryDecision {
  if (failure.kind === 'GONE' || failure.status === 410) return { retry: false, reason: 'GONE' };
  const next = scheduleIndex + 1;
  if (next >= schedule.length) return { retry: false, reason: 'SCHEDULE_EXHAUSTED' };
  const base = schedule[next];
  let delayMs = Math.round(base * (1 - JITTER + 2 * JITTER * random));
  const honours = failure.status === 429 || failure.status === 503;
  if (honours && failure.retryAfterMs !== undefined) {
    // No sooner than asked, bounded so a receiver cannot park a delivery forever.
    delayMs = Math.max(delayMs, Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS));
  }
  return { retry: true, delayMs, scheduleIndex: next };
}

/**
 * Parses a Retry-After header: delta-seconds or an HTTP date. Returns ms from
 * `now`, or undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
