import 'reflect-metadata';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { createOrm } from '../src/db/orm.js';
import { createLogger } from '../src/log.js';

/**
 * Writes a migration for the difference between the entities and the schema
 * the existing migrations produce, into src/db/migrations (then list it in
 * src/db/migrations/index.ts). Usage: npm run migration:create -- <name>
 */
const folder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/db/migrations');
const pg = new EmbeddedPostgres({ dir: path.join(os.tmpdir(), `hookgraph-migration-${process.pid}`), ephemeral: true, log: createLogger('warn') });
await pg.start();
try {
  const orm = await createOrm({ url: pg.url, poolSize: 2 });
  await orm.migrator.up();
  const result = await orm.migrator.create(folder, false, false, process.argv[2] ?? 'change');
  console.log(result.diff.up.length ? `wrote ${result.fileName} (${result.diff.up.length} statements)` : 'no changes');
  await orm.close();
} finally {
  await pg.stop();
}
