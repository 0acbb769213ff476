import type { SlotReservation } from '../store/webhook-subscriptions.js';

/**
 * Per-subscription rate limit (`rateLimitPerSecond`), for the subscription as
 * a whole however many worker processes run: its theoretical arrival time
 * lives in PostgreSQL (`webhook_subscription.rate_tat`), and each claim batch
 * reserves the next free slots of its rate-limited subscriptions in one
 * statement (`webhookSubscriptions.reserveSendSlots`, on the database's clock).
 * Slots are 1/rate apart, so no one-second window ever holds more than `rate`
 * slots (no burst allowance). A delivery whose slot lies ahead is deferred to
 * it (a job starting at the slot) and keeps the slot, so it is not counted
 * twice when it comes back; an ordered one waits for it in-process.
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
