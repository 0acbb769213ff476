#!/usr/bin/env -S node --max-semi-space-size=16 --heap-growing-percent=50
import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { EmbeddedPostgresError } from './db/embedded-postgres.js';
import { missingHeapFlags } from './heap-flags.js';
import { createLogger } from './log.js';
import { ROLES, runMigrations, startApp, type App, type Role } from './app.js';

/** hookgraph <serve|api|worker|migrate> */
async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'serve') as Role;
  if (!ROLES.includes(role)) {
    process.stderr.write(`hookgraph: unknown role "${role}"; use one of ${ROLES.join(', ')}\n`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hookgraph: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel, { role });

  if (role === 'migrate') {
    const applied = await runMigrations(config, log);
    log.info(applied.length ? 'migrations applied' : 'database is up to date', { migrations: applied });
    return;
  }

  const missing = missingHeapFlags();
  if (missing.length) log.warn('started without the heap flags the npm scripts and the image pass to node; memory may grow to several times the live heap', { missing });

  const started = Date.now();
  const app: App = await startApp(config, role, log);
  log.info('ready', { ms: Date.now() - started });

  let stoppingSince = 0;
  /** Beyond the last attempt's timeout: time to commit outcomes, stop the queue and close the pool. */
  const STOP_GRACE_MS = 20_000;
  const shutdown = (signal: string) => {
    // Ctrl-C reaches npm, the shell and node together, and npm forwards it again: ignore echoes.
    if (stoppingSince && Date.now() - stoppingSince < 3000) return;
    if (stoppingSince) {
      log.warn('second signal: exiting now', { signal });
      app.database.embedded?.stopNow();
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info('shutting down', { signal });
    // A stop that hangs (a step waiting on a connection that died) must not keep the process: nothing is
    // lost by exiting, since unfinished jobs stay active in pg-boss and run again once they expire.
    const deadlineMs = config.deliveryTimeoutMs + STOP_GRACE_MS;
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting (unfinished deliveries run again when their jobs expire)', { ms: deadlineMs });
      app.database.embedded?.stopNow();
      process.exit(1);
    }, deadlineMs).unref();
    app.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error('shutdown failed', { err });
        app.database.embedded?.stopNow();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Never leave an embedded PostgreSQL behind, whatever ends the process.
  process.on('exit', () => app.database.embedded?.stopNow());
}

main().catch((error) => {
  if (error instanceof ConfigError || error instanceof EmbeddedPostgresError) {
    process.stderr.write(`hookgraph: ${error.message}\n`);
  } else if ((error as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    const { port } = error as NodeJS.ErrnoException & { port?: number };
    process.stderr.write(`hookgraph: port ${port} is already in use; stop what uses it or set PORT to another port\n`);
  } else {
    process.stderr.write(`hookgraph: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
