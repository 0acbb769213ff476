import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { silentLogger } from '../../src/log.js';

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

/** A fresh, empty database on the test server (or on `server`, an admin URL of another one). */
export async function createTestDatabase(label = 'test', server = serverUrl()): Promise<TestDatabase> {
  const name = `hg_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  return {
    name,
    url: withDatabase(server, name),
    async drop() {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}

export interface OwnPostgres {
  /** Admin URL (database `postgres`); the port stays the same across restarts. */
  url: string;
  /** Fast shutdown (clients are disconnected), then a start on the same data and port. */
  restart(pauseMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of the calling test file's own, for tests that stop or
 * restart it under hookgraph (never the run's shared server).
 */
export async function startOwnPostgres(label: string): Promise<OwnPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hookgraph-test-${label}-`));
  const port = await freePort();
  const make = () => new EmbeddedPostgres({ dir, preferredPort: port, log: silentLogger });
  let server = make();
  await server.start();
  if (server.port !== port) throw new Error(`own PostgreSQL started on ${server.port}, not ${port}`);
  const url = server.url;
  return {
    url,
    async restart(pauseMs = 500) {
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      server = make();
      await server.start();
      if (server.port !== port) throw new Error(`own PostgreSQL came back on ${server.port}, not ${port}`);
    },
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
