import { PgBoss } from 'pg-boss';
import type { Logger } from '../log.js';

/** pg-boss keeps its tables in its own schema and migrates them itself. */
export const PGBOSS_SCHEMA = 'pgboss';

export interface QueueOptions {
  url: string;
  log: Logger;
  /** Only workers run maintenance and cron; api processes just send. */
  supervise: boolean;
}

export async function startBoss({ url, log, supervise }: QueueOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: PGBOSS_SCHEMA,
    application_name: 'hookgraph-queue',
    supervise,
    schedule: supervise,
    migrate: true,
    max: 10,
  });
  boss.on('error', (err) => log.error('queue error', { err }));
  await boss.start();
  return boss;
}
