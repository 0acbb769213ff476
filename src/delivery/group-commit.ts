import type { Logger } from '../log.js';

export interface GroupCommitOptions<T> {
  /** Commit once this many items wait… */
  maxItems: number;
  /** …or this long after the first of them arrived, whichever comes first. */
  delayMs: number;
  /** Writes one group in one transaction; throws if it did not commit. */
  commit(items: T[]): Promise<void>;
  /** False once committing an item again is pointless (its job has expired and runs again elsewhere). */
  retryable(item: T, now: number): boolean;
  /** Items given up on after failed commits (left to pg-boss's expiry). */
  abandon(items: T[], error: unknown): void;
  log: Logger;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;

/**
 * Collects finished attempts and writes them in small groups, one
 * transaction each, one transaction at a time: while one commits, the next
 * group fills, so under load groups grow by themselves and when idle an item
 * waits at most `delayMs`. A failed commit (PostgreSQL restarting, a lost
 * connection) is retried with backoff, with whatever arrived meanwhile, for as
 * long as its items are retryable; the rest are abandoned to pg-boss's expiry,
 * which runs their jobs again.
 */
export class GroupCommit<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: GroupCommitOptions<T>) {}

  get size(): number {
    return this.pending.length;
  }

  add(item: T): void {
    this.pending.push(item);
    if (this.running) return;
    if (this.pending.length >= this.options.maxItems) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.options.delayMs);
  }

  /** Resolves once everything added so far is committed or abandoned. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.running) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.pending.length === 0) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
      // What arrived during the last commit already waited for it: commit it now.
      if (this.pending.length > 0) this.start();
    });
  }

  private async run(): Promise<void> {
    const { maxItems, commit, log } = this.options;
    let group = this.pending.splice(0, maxItems);
    for (let failures = 0; ; ) {
      try {
        await commit(group);
        return;
      } catch (error) {
        failures++;
        const now = Date.now();
        const keep = group.filter((item) => this.options.retryable(item, now));
        if (keep.length < group.length) {
          const kept = new Set(keep);
          this.options.abandon(group.filter((item) => !kept.has(item)), error);
        }
        if (keep.length === 0) return;
        log.warn('delivery outcomes not committed yet; retrying', { err: error, attempts: keep.length, failures });
        await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failures - 1))));
        group = keep.concat(this.pending.splice(0, Math.max(0, maxItems - keep.length)));
      }
    }
  }
}
