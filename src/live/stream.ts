import type { LiveSubscription } from './pubsub.js';

/**
 * What a GraphQL subscription streams: first `replay` (catch-up rows read
 * after subscribing, so nothing falls between them), then each live message
 * turned into a value by `step` (undefined skips it: filtered out, or the row
 * is gone). `return()` ends the live subscription at once, even while a
 * `next()` waits, which an async generator could not do.
 */
export function liveStream<M, V>(source: LiveSubscription<M>, step: (message: M) => Promise<V | undefined>, replay: V[] = []): AsyncIterableIterator<V> {
  let replayed = 0;
  return {
    async next(): Promise<IteratorResult<V>> {
      if (replayed < replay.length && !source.done) return { value: replay[replayed++]!, done: false };
      for (;;) {
        const message = await source.next();
        if (message.done) return { value: undefined, done: true };
        const value = await step(message.value);
        if (value !== undefined) return { value, done: false };
      }
    },
    async return(): Promise<IteratorResult<V>> {
      await source.return();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown): Promise<IteratorResult<V>> {
      await source.return();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Loads each message's row once per process, however many subscribers stream
 * it: messages are shared objects, so the first subscriber's load is reused by
 * the rest; loads of the same tick are batched into one query per tenant.
 */
export class SharedLoader<M extends { tenantId: string; id: string }, V, R = V> {
  private readonly loaded = new WeakMap<M, Promise<V | undefined>>();
  private pending: { message: M; resolve: (value: V | undefined) => void; reject: (error: unknown) => void }[] = [];

  /**
   * `shape` turns a message and its row into the streamed value, once per
   * message: every subscriber gets the same object, so identical operations
   * can share one execution (see subscribeWithFreshContext).
   */
  constructor(
    private readonly byIds: (tenantId: string, ids: string[]) => Promise<Map<string, R>>,
    private readonly shape: (message: M, row: R) => V = (_m, row) => row as unknown as V,
  ) {}

  load(message: M): Promise<V | undefined> {
    let promise = this.loaded.get(message);
    if (!promise) {
      promise = new Promise<V | undefined>((resolve, reject) => {
        if (this.pending.length === 0) queueMicrotask(() => setImmediate(() => void this.flush()));
        this.pending.push({ message, resolve, reject });
      });
      this.loaded.set(message, promise);
    }
    return promise;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const byTenant = new Map<string, typeof batch>();
    for (const entry of batch) {
      const list = byTenant.get(entry.message.tenantId) ?? [];
      list.push(entry);
      byTenant.set(entry.message.tenantId, list);
    }
    await Promise.all(
      [...byTenant].map(async ([tenantId, entries]) => {
        try {
          const rows = await this.byIds(tenantId, [...new Set(entries.map((e) => e.message.id))]);
          for (const entry of entries) {
            const row = rows.get(entry.message.id);
            entry.resolve(row === undefined ? undefined : this.shape(entry.message, row));
          }
        } catch (error) {
          for (const entry of entries) entry.reject(error);
        }
      }),
    );
  }
}

/** Milliseconds since the epoch encoded in a UUIDv7 (its creation time). */
export function uuidv7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
