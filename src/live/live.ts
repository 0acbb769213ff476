import type { Pool } from 'pg';
import type { Logger } from '../log.js';
import type { LiveMessage } from './announce.js';
import { ConnectionRegistry } from './connections.js';
import { LiveListener } from './listener.js';
import { LivePubSub } from './pubsub.js';

export interface LiveOptions {
  /** PostgreSQL URL for the dedicated LISTEN connection. */
  url: string;
  /** Pool for resync reads. */
  pool: Pool;
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
  stats: { messages: number; resyncs: number };
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
  const stats = { messages: 0, resyncs: 0 };
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
      resync(options.pool, connections.keyIds(), new Date(since.getTime() - RESYNC_MARGIN_MS)).then(
        (messages) => {
          if (newerThanResync === newer) newerThanResync = undefined;
          stats.resyncs++;
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
export async function resync(pool: Pool, openKeyIds: string[], since: Date): Promise<LiveMessage[]> {
  const [deliveries, subscriptions, events, revoked] = await Promise.all([
    pool.query(
      `select id, tenant_id, event_id, webhook_subscription_id, status, attempt_count
         from delivery where updated_at >= $1 order by updated_at, id limit ${RESYNC_LIMIT}`,
      [since],
    ),
    pool.query(`select id, tenant_id, status from webhook_subscription where updated_at >= $1 order by updated_at, id limit ${RESYNC_LIMIT}`, [since]),
    pool.query(`select id, tenant_id, event_type from event where created_at >= $1 order by id limit ${RESYNC_LIMIT}`, [since]),
    openKeyIds.length
      ? pool.query(`select id, tenant_id from api_key where id = any($1::uuid[]) and revoked_at is not null`, [openKeyIds])
      : Promise.resolve({ rows: [] as { id: string; tenant_id: string }[] }),
  ]);
  return [
    ...revoked.rows.map((r): LiveMessage => ({ kind: 'apiKeyRevoked', tenantId: r.tenant_id, id: r.id })),
    ...events.rows.map((r): LiveMessage => ({ kind: 'event', tenantId: r.tenant_id, id: r.id, eventType: r.event_type })),
    ...subscriptions.rows.map((r): LiveMessage => ({ kind: 'webhookSubscription', tenantId: r.tenant_id, id: r.id, status: r.status })),
    ...deliveries.rows.map(
      (r): LiveMessage => ({
        kind: 'delivery',
        tenantId: r.tenant_id,
        id: r.id,
        eventId: r.event_id,
        webhookSubscriptionId: r.webhook_subscription_id,
        status: r.status,
        attemptCount: r.attempt_count,
      }),
    ),
  ];
}
