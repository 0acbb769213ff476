import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { DELIVERY_QUEUES } from '../../src/delivery/jobs.js';
import { createLogger } from '../../src/log.js';
import { TEST_ENV, startTestApp, type TestApp } from '../helpers/app.js';
import { scrape, value } from '../helpers/metrics.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, eventually, publish, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

/*
 * A `worker` process started on an empty database, before any migration:
 * its probe server answers from the start, reads "not ready" until an api
 * process has migrated the database, then serves its own delivery metrics.
 */
const db = await createTestDatabase('worker-http');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-worker-http-'));
const shared = { DATABASE_URL: db.url, HOOKGRAPH_SECRET_KEY: randomBytes(32).toString('hex') };

/** A real logger at debug, into parsed lines (the worker's listening line gives its URL). */
function capture() {
  const lines: Record<string, any>[] = [];
  const raw: string[] = [];
  const log = createLogger('debug', {}, { write: (line: string) => void (raw.push(line), lines.push(JSON.parse(line))) });
  return { log, lines, raw };
}
const workerLog = capture();
const apiLog = capture();

let worker: App | undefined;
const workerStarted = startApp(loadConfig({ ...TEST_ENV, ...shared, HOOKGRAPH_DATA_DIR: dataDir, HOOKGRAPH_ROOT_KEY: 'hgroot_test_' + randomBytes(16).toString('hex') }), 'worker', workerLog.log).then((app) => (worker = app));
let api: TestApp;
after(async () => {
  await workerStarted.catch(() => undefined);
  await worker?.stop();
  await api?.stop();
  await db.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
const workerUrl = await eventually(async () => workerLog.lines.find((l) => l.msg === 'hookgraph worker listening')?.url as string | undefined, 10_000, 'the worker to listen');
// Probed before any migration; asserted in the first test.
const early = {
  health: await fetch(`${workerUrl}/healthz`),
  ready: await fetch(`${workerUrl}/readyz`),
  metrics: await fetch(`${workerUrl}/metrics`),
  waiting: worker === undefined,
};
// The api migrates the database at start (and stops when the file ends).
api = await startTestApp({ label: 'worker-http-api', role: 'api', env: shared, log: apiLog.log });

const receiver = await startReceiver();
let t: Tenant;

test('before the database is migrated the worker is alive but not ready', async () => {
  assert.equal(early.health.status, 200);
  assert.deepEqual(await early.health.json(), { status: 'ok' });
  assert.equal(early.ready.status, 503);
  assert.deepEqual(await early.ready.json(), { status: 'not ready' });
  assert.equal(early.metrics.status, 200);
  assert.match(await early.metrics.text(), /^hookgraph_process_cpu_seconds_total /m);
  assert.ok(early.waiting, 'startApp was still waiting for migrations');
});

test('once an api process has migrated the database the worker is ready, and serves no GraphQL', async () => {
  await workerStarted;
  assert.equal(worker!.url, workerUrl);
  const ready = await fetch(`${workerUrl}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready' });
  const graphql = await fetch(`${workerUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
  assert.equal(graphql.status, 404);
  assert.equal((await fetch(`${workerUrl}/admin`)).status, 404);
});

test("the worker's /metrics counts its deliveries: attempts in flight, outcomes, attempt durations and publish → success latency", async () => {
  t = await tenant(api);
  await eventType(t, 'job.done');
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  receiver.respond(async (_request, index) => {
    if (index === 0) await held;
    return { status: 200 };
  });
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['job.done'], headers: { 'x-receiver-token': 'header-value-never-logged' } });

  const first = await publish(t, 'job.done', { n: 1 });
  await receiver.waitFor(1);
  assert.equal(value(await scrape(workerUrl), 'hookgraph_attempts_in_flight'), 1);
  release();
  const events = [first, await publish(t, 'job.done', { n: 2 }), await publish(t, 'job.done', { n: 3 })];
  const deliveries = [];
  for (const event of events) deliveries.push(...(await settled(t, event.id)));
  assert.deepEqual(deliveries.map((d) => d.status), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);

  const metrics = await scrape(workerUrl);
  assert.equal(value(metrics, 'hookgraph_attempts_in_flight'), 0);
  assert.equal(value(metrics, 'hookgraph_deliveries_total{outcome="SUCCEEDED"}'), 3);
  assert.equal(value(metrics, 'hookgraph_delivery_attempt_duration_seconds_count{result="success"}'), 3);
  assert.equal(value(metrics, 'hookgraph_delivery_latency_seconds_count'), 3);
  assert.equal(value(metrics, 'hookgraph_delivery_latency_seconds_bucket{le="+Inf"}'), 3);
  assert.ok(value(metrics, 'hookgraph_delivery_latency_seconds_sum') > 0);
  for (const queue of DELIVERY_QUEUES) assert.equal(value(metrics, `hookgraph_oldest_due_delivery_seconds{queue="${queue}"}`), 0, queue);
  // Publishing happened in the api process: its counter, not the worker's.
  assert.equal(metrics.get('hookgraph_events_published_total') ?? 0, 0);
  assert.equal(metrics.get('hookgraph_deliveries_created_total') ?? 0, 0);
  const apiMetrics = await scrape(api.url);
  assert.equal(value(apiMetrics, 'hookgraph_events_published_total'), 3);
  assert.equal(value(apiMetrics, 'hookgraph_deliveries_created_total'), 3, 'three events to one subscription');
  assert.equal(apiMetrics.get('hookgraph_delivery_attempt_duration_seconds_count{result="success"}') ?? 0, 0, 'the api sent nothing');

  // One debug line per attempt, with the ids and without the subscription's secrets or header values.
  const attempts = workerLog.lines.filter((l) => l.msg === 'delivery attempt');
  assert.deepEqual(
    attempts.map((l) => [l.level, l.tenantId, l.webhookSubscriptionId, l.eventId, l.attemptNumber, l.responseStatus, l.outcome]).sort(),
    events.map((e) => ['debug', t.tenantId, sub.id, e.id, 1, 200, 'SUCCEEDED']).sort(),
  );
  assert.deepEqual(attempts.map((l) => l.deliveryId).sort(), deliveries.map((d) => d.id).sort());
  const written = workerLog.raw.join('\n') + apiLog.raw.join('\n');
  for (const secret of ['header-value-never-logged', sub.secret, t.key, shared.HOOKGRAPH_SECRET_KEY, api.rootKey]) assert.ok(!written.includes(secret), 'a secret reached the logs');
});

test('the api logs one debug line per GraphQL request with the operation name and tenant', async () => {
  const result = await api.gql('query ProbeTenant { __typename }', {}, t.key);
  assert.equal(result.data.__typename, 'Query');
  const line = await eventually(async () => apiLog.lines.find((l) => l.msg === 'graphql request' && l.operationName === 'ProbeTenant'));
  assert.deepEqual([line.level, line.operationType, line.principal, line.tenantId, line.errors], ['debug', 'query', 'key', t.tenantId, 0]);
  assert.equal(typeof line.keyId, 'string');
});

test('with no worker running, a published delivery shows up as the oldest due delivery', async () => {
  await worker!.stop();
  const before = await scrape(api.url);
  for (const queue of DELIVERY_QUEUES) assert.equal(value(before, `hookgraph_oldest_due_delivery_seconds{queue="${queue}"}`), 0, queue);
  await publish(t, 'job.done', { n: 4 });
  await eventually(async () => {
    const metrics = await scrape(api.url);
    return DELIVERY_QUEUES.some((queue) => value(metrics, `hookgraph_oldest_due_delivery_seconds{queue="${queue}"}`) > 0);
  }, 10_000, 'a due delivery to age');
});
