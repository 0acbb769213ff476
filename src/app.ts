import 'reflect-metadata';
import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Config } from './config/config.js';
import { resolveKeys, resolveSecretKey } from './config/keys.js';
import { openDatabase, type Database } from './db/database.js';
import { connectionBudget, createOrm, migrate, pendingMigrations, pgPool, type Orm } from './db/orm.js';
import { sealOutdatedSecrets } from './db/seal-rows.js';
import type { Services } from './api/context.js';
import { createSchema } from './api/schema.js';
import { startHttpServer, type RunningHttpServer } from './api/server.js';
import { startProbeServer, type RunningProbeServer } from './api/probes.js';
import { mountAdmin } from './api/admin-route.js';
import { mountAsyncApi } from './api/asyncapi.js';
import { startBoss } from './delivery/queue.js';
import { Metrics } from './delivery/metrics.js';
import { Publisher } from './delivery/publish.js';
import { startRetention } from './delivery/retention.js';
import { DeliveryWorker } from './delivery/worker.js';
import { DeliveryOperations } from './delivery/operations.js';
import { Db } from './store/db.js';
import { EventSchemas } from './api/event-schemas.js';
import { AddressGuard } from './delivery/address-guard.js';
import { startLive, type Live } from './live/live.js';
import { watchLive } from './live/metrics.js';
import type { Logger } from './log.js';
import { startTracing } from './telemetry/tracing.js';
import { traceGraphQLRequests } from './telemetry/graphql.js';

export type Role = 'serve' | 'api' | 'worker' | 'migrate';
export const ROLES: readonly Role[] = ['serve', 'api', 'worker', 'migrate'];

export interface App {
  /** Base URL of the HTTP server (GraphQL for api and serve; probes and metrics only for worker). */
  url?: string;
  port?: number;
  /** What the GraphQL API runs on (api and serve roles; a worker has none). */
  services?: Services;
  database: Database;
  /** The `pg` pool under MikroORM, for tests and tools that look at the tables directly. */
  pool: Pool;
  /** Stops everything in order: HTTP and WebSockets, queue, database pool, embedded PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * Composition root: starts the parts a role needs, in dependency order, and
 * returns one handle that stops them in reverse.
 */
export async function startApp(config: Config, role: Exclude<Role, 'migrate'>, log: Logger): Promise<App> {
  const keys = resolveKeys(config);
  const database = await openDatabase(config, log);
  const stack: { name: string; run: () => Promise<unknown> }[] = [];
  const onStop = (name: string, run: () => Promise<unknown>) => stack.push({ name, run });
  onStop('database', () => database.stop());
  // Ready (for /readyz) once every part has started, until stopping begins.
  let running = false;
  const stop = async () => {
    running = false;
    for (const step of stack.reverse()) {
      const started = Date.now();
      await step.run().catch((err) => log.error('error while stopping', { err, step: step.name }));
      log.debug('stopped', { step: step.name, ms: Date.now() - started });
    }
    stack.length = 0;
  };
  try {
    // Stopped after everything that makes spans, flushing what is queued.
    onStop('tracing', await startTracing(config, log));
    const connections = connectionBudget(config.dbConnections);
    const orm = await createOrm({ url: database.url, poolSize: connections.orm });
    onStop('orm', () => orm.close());
    const db = new Db(orm);
    const metrics = new Metrics({ defaults: true });
    const ready = async () => running && (await db.ping(), (await pendingMigrations(orm)).length === 0);
    // A worker serves its probes and metrics from the start, so it reads "not ready" while it waits for migrations.
    let probes: RunningProbeServer | undefined;
    if (role === 'worker') {
      probes = await startProbeServer({ ready, metrics, port: config.port, host: config.host });
      onStop('http', () => probes!.close());
      log.info('hookgraph worker listening', { url: probes.url, port: probes.port });
    }
    if (role !== 'worker') {
      const applied = await migrate(orm);
      if (applied.length) log.info('migrations applied', { migrations: applied });
    } else {
      await waitForMigrations(orm, log);
    }
    if (keys.rootKeyGenerated) {
      // Printed once, on the start that generated it; stored in the data dir for later.
      process.stdout.write(`\nhookgraph root key (shown once, kept in ${config.dataDir}/root-key):\n  ${keys.rootKey}\n\n`);
    }
    // After the SQL migrations, the data step they cannot do (it needs the secret key); the worker role leaves it to them.
    if (role !== 'worker') await sealOutdatedSecrets(db, keys.secretKey, log);
    // api and serve: one LISTEN connection feeds this process's GraphQL subscriptions.
    let live: Live | undefined;
    if (role !== 'worker') {
      live = await startLive({ url: database.url, db, log, bufferSize: config.liveBufferSize });
      onStop('live', () => live!.stop());
    }

    const boss: PgBoss = await startBoss({ url: database.url, log, supervise: role !== 'api', deliveryTimeoutMs: config.deliveryTimeoutMs, max: connections.queue });
    onStop('queue', () => boss.stop({ graceful: true, timeout: 10_000, close: true }));
    metrics.watchQueues(boss);
    metrics.watchBacklog(db);
    if (live) watchLive(metrics.registry, live);
    const guard = new AddressGuard(config.allowTargets);
    // One fan-out cache per process: the API's publishes and the worker's operational events share it.
    const publisher = new Publisher({ config, db, boss, metrics });
    // api processes only send jobs; serve and worker deliver them and run retention.
    if (role !== 'api') {
      const worker = new DeliveryWorker({ config, db, boss, log, secretKey: keys.secretKey, metrics, guard, publisher });
      await worker.start();
      onStop('delivery worker', () => worker.stop());
      await startRetention({ boss, db, log, retentionDays: config.retentionDays });
    }
    const services: Services | undefined = live && {
      config,
      db,
      log,
      rootKey: keys.rootKey,
      secretKey: keys.secretKey,
      pubSub: live.pubsub,
      live,
      guard,
      boss,
      metrics,
      publisher,
      operations: new DeliveryOperations({ db, boss, config }),
      eventSchemas: new EventSchemas(db),
    };
    running = true;

    let http: RunningHttpServer | undefined;
    if (services) {
      const schema = await createSchema(services.pubSub);
      http = await startHttpServer(
        {
          services,
          schema,
          ready,
          onSocket: (socket, principal) => {
            if (principal.kind === 'key') services.live.connections.register(socket, { tenantId: principal.tenantId, keyId: principal.keyId });
          },
          routes: (app) => {
            metrics.route(app);
            mountAdmin(app);
            traceGraphQLRequests(app);
            mountAsyncApi(app, services);
          },
        },
        config.port,
        config.host,
      );
      onStop('http', () => http!.close());
      log.info('hookgraph listening', { role, url: `${http.url}/graphql`, port: http.port });
    } else {
      log.info('hookgraph worker started');
    }
    return { url: http?.url ?? probes?.url, port: http?.port ?? probes?.port, services, database, pool: await pgPool(orm), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs pending migrations against the configured database and stops. */
export async function runMigrations(config: Config, log: Logger): Promise<string[]> {
  const database = await openDatabase(config, log);
  try {
    const orm = await createOrm({ url: database.url, poolSize: 2 });
    try {
      const applied = await migrate(orm);
      await sealOutdatedSecrets(new Db(orm), resolveSecretKey(config), log);
      return applied;
    } finally {
      await orm.close();
    }
  } finally {
    await database.stop();
  }
}

/** A worker may start before `migrate` finished (e.g. in docker compose): wait, don't race it. */
async function waitForMigrations(orm: Orm, log: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const pending = await pendingMigrations(orm);
    if (pending.length === 0) return;
    if (attempt === 0) log.warn('waiting for migrations to be applied (run `npm run migrate`)', { pending });
    if (attempt > 300) throw new Error(`migrations still pending after 5 minutes: ${pending.join(', ')}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
