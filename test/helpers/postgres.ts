import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The test runner (test/run.ts) starts one embedded PostgreSQL per run and
 * passes its admin URL here; each test file makes its own database on it.
 */
export function serverUrl(): string {
  const url = process.env.HOOKGRAPH_TEST_PG_URL;
  if (!url) throw new Error('HOOKGRAPH_TEST_PG_URL is not set: run tests with `npm test`');
  return url;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test server. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `hg_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  return {
    name,
    url: withDatabase(serverUrl(), name),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl() });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}
