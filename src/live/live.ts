import type { Logger } from '../log.js';
import * as apiKeys from '../store/api-keys.js';
import type { Db } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import * as events from '../store/events.js';
import * as webhookSubscriptions from '../store/webhook-subscriptions.js';
import type { LiveMessage } from './messages.js';
import { ConnectionRegistry } from './connections.js';
import { LiveListener } from './listener.js';
import { LivePubSub } from './pubsub.js';

export interface LiveOptions {
  /** PostgreSQL URL for the dedicated LISTEN connection. */
  url: string;
  /** Resync reads the tables through it. */
  db: Db;
  log: Logger;
  /** Messages buffered per subscription before its client is dropped as too slow. */
  bufferSize?: number;
  heartbeatMs?: number;
}

/** The receiving side of live updates in one api process. */
export interface Live {
  pubsub: LivePubSub;
  connections: ConnectionRegistry;
  listener: LiveListener;
  /** Counts since start (for metrics). */
  stats: { messages: number };
  stop(): Promise<void>;
}

/** Rows re-read per kind after a reconnect; beyond that clients catch up with `since` / queries. */
const RESYNC_LIMIT = 50_000;
/** Processes stamp `updated_at` with their own clocks: re-read a little further back. */
const RESYNC_MARGIN_MS = 5_000;

/** Starts the listener and wires it to the pub/sub and the socket registry. */
export async function startLive(options: LiveOptions): Promise<Live> {
  const log = options.log.child({ component: 'live' });
  const pubsub = new LivePubSub(options.bufferSize);
  const connections = new ConnectionRegistry(log);
  const stats = { messages: 0 };
  /** Ids announced live while a resync reads: its (older) rows for them must not follow the newer news. */
  let newerThanResync: Set<string> | undefined;
  const fanOut = (messages: LiveMessage[]) => {
    stats.messages += messages.length;
    if (newerThanResync) for (const message of messages) newerThanResync.add(message.id);
    for (const message of messages) {
      switch (message.kind) {
        case 'delivery':
        case 'webhookSubscription':
        case 'event':
          pubsub.publish(message.kind, message.tenantId, message as never);
          break;
        case 'apiKeyRevoked':
          connections.closeKey(message.id);
          break;
      }
    }
  };
  const listener = new LiveListener({
    url: options.url,
    log,
    heartbeatMs: options.heartbeatMs,
    onMessages: fanOut,
    onResync: (since) => {
      const newer = (newerThanResync = new Set());
      resync(options.db, connections.keyIds(), new Date(since.getTime() - RESYNC_MARGIN_MS)).then(
        (messages) => {
          if (newerThanResync === newer) newerThanResync = undefined;
          log.info('live resync done', { since: since.toISOString(), messages: messages.length });
          fanOut(messages.filter((m) => !newer.has(m.id)));
        },
        (err) => {
          if (newerThanResync === newer) newerThanResync = undefined;
          log.error('live resync failed; clients catch up on their next reconnect', { err });
        },
      );
    },
  });
  await listener.start();
  return { pubsub, connections, listener, stats, stop: () => listener.stop() };
}

/**
 * What may have been announced while the listener was away, re-read from the
 * tables (the truth): the current state of changed deliveries, subscriptions
 * and events, and which open sockets' keys were revoked.
 */
export async function resync(db: Db, openKeyIds: string[], since: Date): Promise<LiveMessage[]> {
  const [deliveryNews, subscriptionNews, eventNews, revoked] = await Promise.all([
    deliveries.changedSince(db, since, RESYNC_LIMIT),
    webhookSubscriptions.changedSince(db, since, RESYNC_LIMIT),
    events.publishedSince(db, since, RESYNC_LIMIT),
    apiKeys.revokedAmong(db, openKeyIds),
  ]);
  return [...revoked, ...eventNews, ...subscriptionNews, ...deliveryNews];
}
