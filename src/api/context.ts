import DataLoader from 'dataloader';
import type { PubSub } from 'type-graphql';
import type { WebSocket } from 'ws';
import type { Config } from '../config/config.js';
import type { PgBoss } from 'pg-boss';
import type { AddressGuard } from '../delivery/address-guard.js';
import type { Metrics } from '../delivery/metrics.js';
import type { Publisher } from '../delivery/publish.js';
import type { DeliveryOperations } from '../delivery/operations.js';
import type { Db } from '../store/db.js';
import type { Live } from '../live/live.js';
import type { Logger } from '../log.js';
import type { Principal } from './auth.js';
import type { EventSchemas } from './event-schemas.js';

/**
 * Long-lived parts the API needs, built complete by the composition root
 * (`src/app.ts`) for the roles that serve GraphQL (api and serve).
 */
export interface Services {
  config: Config;
  /** The store's database handle: reads on the pool, writes in `db.transaction`. */
  db: Db;
  log: Logger;
  /** Resolved root key (from config or the data dir). */
  rootKey: string;
  /** Resolved 32-byte key that encrypts signing secrets. */
  secretKey: Buffer;
  /** In-process pub/sub behind GraphQL subscriptions (fed by `live`). */
  pubSub: PubSub;
  /** Outbound address guard built from HOOKGRAPH_ALLOW_TARGETS (urls are checked at save and at send time). */
  guard: AddressGuard;
  /** Live updates: LISTEN connection, fan-out, open sockets. */
  live: Live;
  /** The delivery queue. */
  boss: PgBoss;
  /** Publishing and fan-out (`eventPublish`, `webhookSubscriptionTest`). */
  publisher: Publisher;
  /** Manual retries and replays (`deliveryRetry`, `webhookSubscriptionReplay`). */
  operations: DeliveryOperations;
  /** Each tenant's event schema (payload queries are written against it). */
  eventSchemas: EventSchemas;
  /** Prometheus metrics of this process. */
  metrics: Metrics;
}

/** Per-request (or per-WebSocket-operation) state. */
export interface Context {
  services: Services;
  principal: Principal;
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
