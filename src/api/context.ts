import DataLoader from 'dataloader';
import type { Pool } from 'pg';
import type { PubSub } from 'type-graphql';
import type { WebSocket } from 'ws';
import type { Config } from '../config/config.js';
import type { PgBoss } from 'pg-boss';
import type { AddressGuard } from '../delivery/address-guard.js';
import type { Metrics } from '../delivery/metrics.js';
import type { Publisher } from '../delivery/publish.js';
import type { Em, Orm } from '../db/orm.js';
import type { Live } from '../live/live.js';
import type { Logger } from '../log.js';
import type { Principal } from './auth.js';

/**
 * Long-lived parts the API needs, wired in `src/main.ts`. Parts that only some
 * roles start (the queue, the live notifier) are optional.
 */
export interface Services {
  config: Config;
  orm: Orm;
  /** The `pg` pool under MikroORM, for plain-SQL hot paths. */
  pool: Pool;
  log: Logger;
  /** Resolved root key (from config or the data dir). */
  rootKey: string;
  /** Resolved 32-byte key that encrypts signing secrets. */
  secretKey: Buffer;
  /** In-process pub/sub behind GraphQL subscriptions. */
  pubSub: PubSub;
  /** Outbound address guard built from HOOKGRAPH_ALLOW_TARGETS (urls are checked at save and at send time). */
  guard: AddressGuard;
  /** Live updates (LISTEN connection, fan-out, open sockets); api and serve roles only. */
  live?: Live;
  /** The delivery queue (set once pg-boss has started). */
  boss?: PgBoss;
  /** Publishing and fan-out (`eventPublish`, `webhookSubscriptionTest`, ...). */
  publisher?: Publisher;
  /** Prometheus metrics of this process. */
  metrics?: Metrics;
}

/** Per-request (or per-WebSocket-operation) state. */
export interface Context {
  services: Services;
  principal: Principal;
  /** A fresh identity map for this request. */
  em: Em;
  /** The WebSocket of a subscription operation, so live code can drop a client that cannot keep up. */
  socket?: WebSocket;
  /** Per-request DataLoaders by name, so lists resolve nested fields in one query. */
  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<(V | Error)[]>): DataLoader<K, V>;
}

export function createContext(services: Services, principal: Principal): Context {
  const loaders = new Map<string, DataLoader<unknown, unknown>>();
  return {
    services,
    principal,
    em: services.orm.em.fork(),
    loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<(V | Error)[]>): DataLoader<K, V> {
      let loader = loaders.get(name) as DataLoader<K, V> | undefined;
      if (!loader) {
        loader = new DataLoader<K, V>(batch);
        loaders.set(name, loader as DataLoader<unknown, unknown>);
      }
      return loader;
    },
  };
}
