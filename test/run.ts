import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { createLogger } from '../src/log.js';

/**
 * `npm test`: starts one embedded PostgreSQL for the whole run, then runs
 * every compiled test file with node:test (each file makes its own database).
 * Extra arguments are file globs, e.g. `npm test -- 'dist/test/unit/*.test.js'`.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-test-pg-'));
const postgres = new EmbeddedPostgres({ dir, ephemeral: true, log: createLogger('warn') });
const started = Date.now();
await postgres.start();
process.stderr.write(`test PostgreSQL on port ${postgres.port} (${Date.now() - started} ms)\n`);

const globs = process.argv.slice(2);
const files = globs.length ? globs : ['dist/test/**/*.test.js'];
const concurrency = process.env.TEST_CONCURRENCY ?? String(Math.max(2, os.availableParallelism()));
const child = spawn(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=120000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, HOOKGRAPH_TEST_PG_URL: postgres.url },
});
const stopPostgres = () => postgres.stop();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await stopPostgres();
process.exit(code);
