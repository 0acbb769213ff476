import type { PubSub } from 'type-graphql';
import type { LiveMessage } from './messages.js';

type Kind<K extends LiveMessage['kind']> = Extract<LiveMessage, { kind: K }>;

/** What each topic carries. Every topic is split by tenant: a subscriber only ever sees its own tenant's messages. */
export interface LiveTopics {
  delivery: Kind<'delivery'>;
  webhookSubscription: Kind<'webhookSubscription'>;
  event: Kind<'event'>;
}
export type LiveTopic = keyof LiveTopics;

export interface SubscribeOptions {
  /** Messages held for a subscriber that does not keep up; one more and it overflows. */
  limit?: number;
  /** Called once when the buffer overflows; the subscription has already ended. */
  onOverflow?: () => void;
}

/**
 * In-process fan-out behind the GraphQL subscriptions. `publish` never waits:
 * it appends the (shared, immutable) message to each subscriber's bounded
 * buffer, so one slow client cannot stall the listener or anyone else.
 */
export class LivePubSub implements PubSub {
  private readonly subscribers = new Map<string, Set<LiveSubscription<unknown>>>();

  constructor(private readonly defaultLimit = 10_000) {}

  /** Delivers `message` to every subscriber of `topic` in `tenantId`. */
  publish<T extends LiveTopic>(topic: T, tenantId: string, message: LiveTopics[T]): void;
  publish(routingKey: string, ...args: unknown[]): void;
  publish(topic: string, ...args: unknown[]): void {
    const [tenantId, message] = args as [string, unknown];
    const subscribers = this.subscribers.get(key(topic, tenantId));
    if (!subscribers) return;
    for (const subscriber of [...subscribers]) subscriber.push(message);
  }

  /** A bounded async iterator of `topic` messages of `tenantId`; `return()` ends it. */
  subscribe<T extends LiveTopic>(topic: T, tenantId: string, options?: SubscribeOptions): LiveSubscription<LiveTopics[T]>;
  subscribe(routingKey: string, dynamicId?: unknown): AsyncIterable<unknown>;
  subscribe(topic: string, tenantId?: unknown, options: SubscribeOptions = {}): LiveSubscription<unknown> {
    if (typeof tenantId !== 'string') throw new Error(`live topic "${topic}" needs a tenant id`);
    const k = key(topic, tenantId);
    let set = this.subscribers.get(k);
    if (!set) this.subscribers.set(k, (set = new Set()));
    const subscription = new LiveSubscription<unknown>(options.limit ?? this.defaultLimit, options.onOverflow, () => {
      set.delete(subscription);
      if (set.size === 0 && this.subscribers.get(k) === set) this.subscribers.delete(k);
    });
    set.add(subscription);
    return subscription;
  }

  /** Open subscriptions, all topics and tenants (for metrics and tests). */
  get subscriberCount(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }
}

function key(topic: string, tenantId: string): string {
  return `${topic}\u0000${tenantId}`;
}

/**
 * One subscriber's queue. Holds at most `limit` messages; on overflow it ends
 * (pending and future `next()` calls report done) and calls `onOverflow`.
 */
export class LiveSubscription<T> implements AsyncIterableIterator<T> {
  private queue: T[] = [];
  private head = 0;
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;

  constructor(
    private readonly limit: number,
    private readonly onOverflow: (() => void) | undefined,
    private readonly detach: () => void,
  ) {}

  /** Messages waiting to be taken. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  get done(): boolean {
    return this.ended;
  }

  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    if (this.buffered >= this.limit) {
      this.end();
      this.onOverflow?.();
      return;
    }
    this.queue.push(value);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++]!;
      // Compact now and then instead of shift() on every take (O(n) on long queues).
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.head = 0;
    this.detach();
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
  }
}
