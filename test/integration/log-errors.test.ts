import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/log.js';
import { serverUrl } from '../helpers/postgres.js';

test('a PostgreSQL error is logged with its code, detail and constraint, also as the cause of another error', async () => {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  let violation: unknown;
  try {
    // A temporary table: gone with the connection.
    await client.query('create temporary table log_probe (name text constraint log_probe_name_unique unique)');
    await client.query("insert into log_probe values ('a')");
    await client.query("insert into log_probe values ('a')").catch((error) => (violation = error));
  } finally {
    await client.end();
  }
  assert.ok(violation instanceof Error);

  const lines: Record<string, any>[] = [];
  const log = createLogger('debug', {}, { write: (line: string) => void lines.push(JSON.parse(line)) });
  log.error('insert failed', { err: violation });
  log.error('publish failed', { err: new Error('could not store the event', { cause: violation }) });

  for (const logged of [lines[0].err, lines[1].err.cause]) {
    assert.equal(logged.type, 'DatabaseError');
    assert.equal(logged.code, '23505');
    assert.equal(logged.detail, 'Key (name)=(a) already exists.');
    assert.equal(logged.constraint, 'log_probe_name_unique');
    assert.match(logged.message, /duplicate key value violates unique constraint/);
  }
  assert.equal(lines[1].err.message, 'could not store the event');
});
