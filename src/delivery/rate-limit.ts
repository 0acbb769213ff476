/**
 * Per-subscription rate limit (`rateLimitPerSecond`): each send reserves the
 * next free slot, slots 1/rate apart, so no one-second window ever holds more
 * than `rate` sends (no burst allowance). A
 * delivery whose slot lies ahead is deferred to it and keeps the slot, so it
 * is not counted twice when it comes back. The state is per worker process:
 * with N worker processes a subscription may receive up to N× its limit.
 */
export class RateLimiter {
  /** Theoretical arrival time per subscription, ms. */
  private readonly tat = new Map<string, number>();

  /** Reserves a slot; returns how long to wait for it (0 = send now). */
  reserve(key: string, perSecond: number, now: number): number {
    const slot = Math.max(this.tat.get(key) ?? now, now);
    this.tat.set(key, slot + 1000 / perSecond);
    if (this.tat.size > 100_000) this.prune(now);
    return Math.ceil(slot - now);
  }

  private prune(now: number): void {
    for (const [key, tat] of this.tat) if (tat < now) this.tat.delete(key);
  }
}
