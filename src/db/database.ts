import path from 'node:path';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

export interface Database {
  url: string;
  /** The embedded server, when hookgraph runs one. */
  embedded?: EmbeddedPostgres;
  stop(): Promise<void>;
}

/** The configured PostgreSQL, or the embedded one under the data dir. */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => undefined };
  const embedded = new EmbeddedPostgres({ dir: path.join(config.dataDir, 'postgres'), preferredPort: 54329, log });
  const started = Date.now();
  await embedded.start();
  log.info('embedded PostgreSQL started', { port: embedded.port, dataDir: config.dataDir, ms: Date.now() - started });
  return { url: embedded.url, embedded, stop: () => embedded.stop() };
}
