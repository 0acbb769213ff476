import { LRUCache } from 'lru-cache';

/**
 * How one worker shares its in-flight slots. A slot is taken when a job is
 * fetched and given back when its outcome commits (or when it turns out to
 * need no attempt), so the limit bounds HTTP requests, open claims and
 * unrecorded outcomes together.
 *
 * - At most `inFlight` slots in all; unordered deliveries may not take the
 *   last `orderedReserve` of them, so subscriptions that hang or keep timing
 *   out on the shard queues cannot starve the ordered queue.
 * - One subscription runs at most its cap (its `maxInFlight`, never above the
 *   worker's `perSubscription`). Jobs of a subscription at its cap that a
 *   fetch brings anyway (one fetch can return many jobs of one subscription)
 *   are held here in fetch order. Held jobs take no slot, so the others keep
 *   flowing; they start as their subscription's attempts finish. While a
 *   subscription's running and held jobs fill its cap the worker leaves it
 *   out of its fetches (pg-boss `ignoreGroups`), so its backlog stays in the
 *   queue instead of in memory. A held job's pg-boss expiry keeps running,
 *   so the worker defers jobs held too long (see `expired`).
 *
 * Why hold rather than defer every excess job at once: a busy subscription's
 * excess is usually one fetch's worth that starts within milliseconds, and a
 * deferral costs two job writes; only jobs of a subscription slow enough to
 * keep them waiting are deferred.
 *
 * Ordered jobs are never held: the ordered queue's key already runs one job
 * per subscription (or per key value) at a time. They are counted in their
 * subscription's share all the same, and a subscription at its cap is left out
 * of ordered fetches too, so a keyed subscription with many keys stays within
 * its cap but for what the ordered fetches under way bring (they are not
 * held: a held job that waits too long is deferred as a new job, which would
 * lose an ordered job's place at the head of its key). Ordered jobs may take any free slot, not only the
 * reserve.
 */
export interface Shared {
  /** The subscription (the job's pg-boss group); null for jobs queued before groups were set: not capped. */
  subscription: string | null;
  ordered: boolean;
  /** When the job was fetched (its pg-boss expiry runs from then). */
  fetchedAt: number;
}

export interface ShareLimits {
  inFlight: number;
  perSubscription: number;
}

interface SubscriptionShare<J> {
  running: number;
  held: J[];
}

export class FairShare<J extends Shared> {
  readonly orderedReserve: number;
  private running = 0;
  private runningUnordered = 0;
  /** Slots promised to fetches under way, by kind. */
  private reservedOrdered = 0;
  private reservedUnordered = 0;
  private heldCount = 0;
  private readonly subscriptions = new Map<string, SubscriptionShare<J>>();

  constructor(
    private readonly limits: ShareLimits,
    /** A subscription's own cap, when known (the share clamps it to `perSubscription`). */
    private readonly capOf: (subscription: string) => number | null | undefined,
  ) {
    this.orderedReserve = Math.floor(limits.inFlight / 10);
  }

  /** Slots taken (running jobs and fetches under way). */
  get inFlight(): number {
    return this.running + this.reservedOrdered + this.reservedUnordered;
  }

  /** Jobs held for their subscription's share. */
  get held(): number {
    return this.heldCount;
  }

  /** The cap of a subscription: its `maxInFlight`, never above the worker's per-subscription share. */
  cap(subscription: string): number {
    const own = this.capOf(subscription);
    return Math.max(1, Math.min(own ?? this.limits.perSubscription, this.limits.perSubscription));
  }

  /** Slots free for a job of this kind. */
  free(ordered: boolean): number {
    const all = this.limits.inFlight - this.inFlight;
    if (ordered) return Math.max(0, all);
    const unordered = this.limits.inFlight - this.orderedReserve - this.runningUnordered - this.reservedUnordered;
    return Math.max(0, Math.min(all, unordered));
  }

  /**
   * Reserves slots for one fetch: as many as are free, at most `max`, and
   * none when fewer than `least` are free while attempts are running (their
   * slots come back in groups; waiting for them makes fewer, larger fetches).
   */
  reserve(ordered: boolean, max: number, least = 1): number {
    const free = Math.min(max, this.free(ordered));
    if (free <= 0 || (free < least && this.running > 0)) return 0;
    if (ordered) this.reservedOrdered += free;
    else this.reservedUnordered += free;
    return free;
  }

  /** Gives back a reservation whose fetch failed. */
  unreserve(ordered: boolean, count: number): void {
    if (ordered) this.reservedOrdered -= count;
    else this.reservedUnordered -= count;
  }

  /**
   * A fetch under a reservation of `reserved` slots returned `jobs`: those
   * that may start take a slot and are returned; the others are held. The
   * rest of the reservation is given back.
   */
  admit(jobs: readonly J[], reserved: number, ordered: boolean): J[] {
    this.unreserve(ordered, reserved);
    const start: J[] = [];
    for (const job of jobs) {
      const share = job.subscription === null ? undefined : this.share(job.subscription);
      // Held too: what a fetch of batch jobs brings beyond the free slots.
      if (share && !job.ordered && (share.held.length > 0 || share.running >= this.cap(job.subscription!) || this.free(false) <= 0)) {
        share.held.push(job);
        this.heldCount++;
        continue;
      }
      this.take(job, share);
      start.push(job);
    }
    return start;
  }

  /** Subscriptions to leave out of fetches: their running and held jobs fill their cap. */
  saturated(): string[] {
    const ids: string[] = [];
    for (const [id, share] of this.subscriptions) if (share.running + share.held.length >= this.cap(id)) ids.push(id);
    return ids;
  }

  /** A job's slot is free again: its outcome committed, or it needed no attempt (or its claim failed). */
  release(job: J): void {
    this.running--;
    if (!job.ordered) this.runningUnordered--;
    if (job.subscription === null) return;
    const share = this.subscriptions.get(job.subscription);
    if (!share) return;
    share.running--;
    this.forgetIfIdle(job.subscription, share);
  }

  /**
   * Held jobs that may start now, taking their slots: round robin over the
   * subscriptions with room, oldest first within each, while unordered slots
   * are free.
   */
  startable(): J[] {
    const start: J[] = [];
    let progress = true;
    while (progress && this.free(false) > 0) {
      progress = false;
      for (const [id, share] of this.subscriptions) {
        if (this.free(false) <= 0) break;
        if (share.held.length === 0 || share.running >= this.cap(id)) continue;
        const job = share.held.shift()!;
        this.heldCount--;
        this.take(job, share);
        start.push(job);
        progress = true;
      }
    }
    return start;
  }

  /** Held jobs fetched before `fetchedBefore`, taken out of the hold (the caller defers them). */
  expired(fetchedBefore: number): J[] {
    const out: J[] = [];
    for (const [id, share] of this.subscriptions) {
      while (share.held.length > 0 && share.held[0].fetchedAt < fetchedBefore) out.push(share.held.shift()!);
      this.forgetIfIdle(id, share);
    }
    this.heldCount -= out.length;
    return out;
  }

  /** Every held job, taken out (the worker is stopping). */
  takeHeld(): J[] {
    return this.expired(Number.POSITIVE_INFINITY);
  }

  private share(subscription: string): SubscriptionShare<J> {
    let share = this.subscriptions.get(subscription);
    if (!share) this.subscriptions.set(subscription, (share = { running: 0, held: [] }));
    return share;
  }

  private take(job: J, share: SubscriptionShare<J> | undefined): void {
    this.running++;
    if (!job.ordered) this.runningUnordered++;
    if (share) share.running++;
  }

  private forgetIfIdle(id: string, share: SubscriptionShare<J>): void {
    if (share.running <= 0 && share.held.length === 0) this.subscriptions.delete(id);
  }
}

/**
 * Subscriptions whose caps one worker keeps: an entry is an id and a number,
 * 100,000 covers every subscription a worker sends to in a while, and one
 * that falls out is read again before its next fetch is admitted.
 */
export const CAP_CACHE_SUBSCRIPTIONS = 100_000;

/**
 * Subscriptions' own caps (`maxInFlight`) as last read: every claim refreshes
 * them from the subscription row, and the worker reads unknown or older
 * entries before it admits a fetch, so a new cap applies within `maxAgeMs`.
 */
export class CapCache {
  private readonly caps = new LRUCache<string, { cap: number | null; at: number }>({ max: CAP_CACHE_SUBSCRIPTIONS });

  constructor(private readonly maxAgeMs = 5_000) {}

  get(subscription: string): number | null | undefined {
    return this.caps.get(subscription)?.cap;
  }

  /** Of these subscriptions, those never read or read more than `maxAgeMs` ago. */
  stale(subscriptions: Iterable<string>, now: number): string[] {
    const out = new Set<string>();
    for (const id of subscriptions) {
      const entry = this.caps.get(id);
      if (!entry || now - entry.at > this.maxAgeMs) out.add(id);
    }
    return [...out];
  }

  set(subscription: string, cap: number | null, now: number): void {
    this.caps.set(subscription, { cap, at: now });
  }
}
