import type { SlotReservation } from '../store/webhook-subscriptions.js';

/**
 * Per-subscription rate limit (`rateLimitPerSecond`), for the subscription as
 * a whole however many worker processes run: its theoretical arrival time
 * lives in PostgreSQL (`webhook_subscription.rate_tat`), and each claim batch
 * reserves the next free slots of its rate-limited subscriptions in one
 * statement (`webhookSubscriptions.reserveSendSlots`, on the database's clock).
 * Slots are 1/rate apart, so no one-second window ever holds more than `rate`
 * slots (no burst allowance). A delivery whose slot is near waits for it in
 * the worker; one whose slot lies further ahead is deferred to just before it
 * (a new job, or for an ordered one its own job moved in pg-boss's retry
 * state, so it keeps the head of its key) and keeps the slot, so it is not
 * counted twice when it comes back (see `k` and `t` in jobs.ts).
 */

export interface Slot {
  /** How long to wait for the slot, whole milliseconds rounded up (0 = send now), so a send never goes early. */
  waitMs: number;
  /** The slot on the database's clock, rounded up to the millisecond: where a deferred job starts. */
  at: Date;
}

/** The `count` consecutive slots of one reservation, earliest first. */
export function slotsOf(reservation: SlotReservation, count: number): Slot[] {
  const { nowUs, firstWaitUs, stepUs } = reservation;
  // Integer microseconds: a slot that is a whole millisecond is not pushed one further by float error.
  return Array.from({ length: count }, (_, i) => {
    const waitUs = firstWaitUs + i * stepUs;
    return { waitMs: Math.ceil(waitUs / 1000), at: new Date(Math.ceil((nowUs + waitUs) / 1000)) };
  });
}

/**
 * The database's clock as this process reads it. Slots are on the database
 * clock, and a worker whose own clock is off would otherwise wait for them by
 * its own: ahead, it sends early (over the limit) and takes a deferred job
 * that comes back on time for a late one, reserving it a new slot each time;
 * behind, it sends late. Every slot reservation returns a reading. A reading
 * can only make the database look behind (by the time its answer took to
 * arrive, long under load), never ahead, so the offset is the largest of the
 * readings of the last `windowMs`: one slow answer does not make sends late,
 * and a clock that drifts is followed within the window.
 */
/** A reading this much below the largest recent one means a clock was stepped, not a slow answer. */
const CLOCK_STEP_MS = 1_000;

export class DatabaseClock {
  private readings: { offsetMs: number; atMs: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  /** A reading of the database clock (epoch ms) that arrived at `localMs`. */
  observe(databaseMs: number, localMs = Date.now()): void {
    const offsetMs = databaseMs - localMs;
    // Far lower than the largest: not an answer's travel time but a clock stepped (NTP); start over from this one.
    if (this.readings.length && this.readings[0].offsetMs - offsetMs > CLOCK_STEP_MS) this.readings = [];
    // Readings that are both older and lower than this one can never be the largest again.
    this.readings = this.readings.filter((r) => r.atMs > localMs - this.windowMs && r.offsetMs > offsetMs);
    this.readings.push({ offsetMs, atMs: localMs });
  }

  private offsetMs(localMs: number): number {
    const recent = this.readings.filter((r) => r.atMs > localMs - this.windowMs);
    // None recent: the last one known (the clock is read at start, then with every reservation).
    const from = recent.length ? recent : this.readings.slice(-1);
    return from.length ? Math.max(...from.map((r) => r.offsetMs)) : 0;
  }

  /** Now on the database's clock (epoch ms). */
  now(localMs = Date.now()): number {
    return localMs + this.offsetMs(localMs);
  }

  /** Milliseconds from now until `databaseMs` (a time on the database's clock) by this process's timers; 0 if passed. */
  untilMs(databaseMs: number, localMs = Date.now()): number {
    return Math.max(0, databaseMs - this.now(localMs));
  }
}
