/**
 * Per-subscription rate limit (`rateLimitPerSecond`), GCRA style: each send
 * reserves the next free slot; up to one second's worth may go at once. A
 * delivery whose slot lies ahead is deferred to it and keeps the slot, so it
 * is not counted twice when it comes back. The state is per worker process:
 * with N worker processes a subscription may receive up to N× its limit.
 */
export class RateLimiter {
  /** Theoretical arrival time per subscription, ms. */
  private readonly tat = new Map<string, number>();

  /** Reserves a slot; returns how long to wait for it (0 = send now). */
  reserve(key: string, perSecond: number, now: number): number {
    const interval = 1000 / perSecond;
    const burst = 1000 - interval;
    const tat = Math.max(this.tat.get(key) ?? now, now);
    this.tat.set(key, tat + interval);
    if (this.tat.size > 100_000) this.prune(now);
    return Math.max(0, Math.ceil(tat - burst - now));
  }

  private prune(now: number): void {
    for (const [key, tat] of this.tat) if (tat < now) this.tat.delete(key);
  }
}
