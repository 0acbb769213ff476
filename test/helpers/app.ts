import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { gql, type GraphQLResponse } from './graphql.js';

export interface TestApp {
  app: App;
  url: string;
  rootKey: string;
  db: TestDatabase;
  /** Environment the app was started with (reuse it to start a second process on the same database). */
  env: Record<string, string>;
  /** GraphQL over HTTP against this app. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string): Promise<GraphQLResponse<T>>;
  /** Creates a tenant with the root key; returns its id and ADMIN key. */
  createTenant(name?: string): Promise<{ tenantId: string; adminKey: string }>;
  /** Creates an API key with the given scopes in the tenant of `adminKey`. */
  createKey(adminKey: string, scopes: string[], name?: string): Promise<{ id: string; key: string }>;
  stop(): Promise<void>;
}

/** Settings suitable for tests: fast retries, receivers on loopback allowed. */
export const TEST_ENV: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: '0',
  HOOKGRAPH_ALLOW_TARGETS: '127.0.0.0/8,::1',
  HOOKGRAPH_RETRY_SCHEDULE: '0,100ms,200ms',
  HOOKGRAPH_DELIVERY_TIMEOUT: '2s',
  HOOKGRAPH_LOG_LEVEL: 'error',
};

/**
 * Starts hookgraph in this process on a database of its own (a role of
 * `serve` by default) and stops it when the test file ends.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; role?: 'serve' | 'api' | 'worker'; label?: string; log?: Logger; /** Admin URL of a server other than the run's shared one. */ server?: string } = {},
): Promise<TestApp> {
  const db = await createTestDatabase(options.label ?? 'app', options.server);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-test-'));
  const rootKey = 'hgroot_test_' + randomBytes(16).toString('hex');
  const env: Record<string, string> = {
    ...TEST_ENV,
    DATABASE_URL: db.url,
    HOOKGRAPH_SECRET_KEY: randomBytes(32).toString('hex'),
    HOOKGRAPH_ROOT_KEY: rootKey,
    HOOKGRAPH_DATA_DIR: dataDir,
    ...options.env,
  };
  const config = loadConfig(env);
  const log = options.log ?? (process.env.HOOKGRAPH_TEST_LOG ? createLogger('debug') : silentLogger);
  const app = await startApp(config, options.role ?? 'serve', log);
  const url = app.url ?? '';
  let stopped = false;
  const handle: TestApp = {
    app,
    url,
    rootKey,
    db,
    env,
    gql: (query, variables, key) => gql(url, query, variables, key),
    async createTenant(name = 'Test tenant') {
      const result = await gql(url, 'mutation($name: String!) { tenantCreate(input: {name: $name}) { tenant { id } apiKeySecret userErrors { message } } }', { name }, rootKey);
      const payload = result.data?.tenantCreate;
      if (!payload?.tenant) throw new Error(`tenantCreate failed: ${JSON.stringify(result)}`);
      return { tenantId: payload.tenant.id, adminKey: payload.apiKeySecret };
    },
    async createKey(adminKey, scopes, name = 'test key') {
      const result = await gql(
        url,
        'mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { apiKey { id } apiKeySecret userErrors { message } } }',
        { input: { name, scopes } },
        adminKey,
      );
      const payload = result.data?.apiKeyCreate;
      if (!payload?.apiKey) throw new Error(`apiKeyCreate failed: ${JSON.stringify(result)}`);
      return { id: payload.apiKey.id, key: payload.apiKeySecret };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  after(() => handle.stop());
  return handle;
}
