import { parseDuration } from '../config/duration.js';

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

/** A subscription's own retry schedule has at most this many entries (HOOKGRAPH_RETRY_SCHEDULE allows as many). */
export const MAX_SCHEDULE_ENTRIES = 50;
/** Each delay of a subscription's own retry schedule is at most this long. */
export const MAX_SCHEDULE_DELAY_MS = 7 * 24 * 60 * 60 * 1000;

export type ScheduleParse = { ok: true; schedule: number[] } | { ok: false; index?: number; message: string };

/**
 * Parses a retry schedule given as delays (`0`, `200ms`, `5s`, `5m`, `2h`,
 * `1d`): the syntax of HOOKGRAPH_RETRY_SCHEDULE, one entry each. `index` of
 * a failure is the bad entry (0-based); none when the list as a whole is wrong.
 */
export function parseRetrySchedule(entries: readonly string[], maxDelayMs: number = Infinity): ScheduleParse {
  if (entries.length === 0) return { ok: false, message: 'A retry schedule has at least one entry (the delay before the first attempt, usually 0).' };
  if (entries.length > MAX_SCHEDULE_ENTRIES) return { ok: false, message: `A retry schedule has at most ${MAX_SCHEDULE_ENTRIES} entries.` };
  const schedule: number[] = [];
  for (const [index, entry] of entries.entries()) {
    const delay = parseDuration(entry);
    if (delay === undefined) return { ok: false, index, message: `Retry schedule entry ${index + 1} "${entry.trim().slice(0, 40)}" is not a delay (e.g. 0, 200ms, 5s, 5m, 2h, 1d).` };
    if (delay > maxDelayMs) return { ok: false, index, message: `Retry schedule entry ${index + 1} "${entry.trim()}" is longer than the most a retry may wait (${formatDelay(maxDelayMs)}).` };
    schedule.push(delay);
  }
  return { ok: true, schedule };
}

/** A delay in the schedule syntax, in the largest unit that keeps it exact: 300000 → `5m`, 200 → `200ms`, 0 → `0`. */
export function formatDelay(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
