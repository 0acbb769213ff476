import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startOwnPostgres } from '../helpers/postgres.js';
import { spawnHookgraph } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, eventually, PUBLISH_MANY, subscription, tenant } from '../helpers/webhooks.js';

/**
 * At-least-once under a crash: a worker process is SIGKILLed while attempts
 * are in flight; once pg-boss expires its jobs (timeout + 5 s) another worker
 * delivers them. And PostgreSQL restarting under a running worker: claims,
 * group commits and fetches fail until it is back, then the worker carries
 * on (uncommitted outcomes are committed again, or their jobs expire and run
 * again). Every event arrives; some may arrive twice.
 */
const app = await startTestApp({ label: 'crash', role: 'api', env: { HOOKGRAPH_DELIVERY_TIMEOUT: '1s', HOOKGRAPH_WORKER_BATCH_SIZE: '25' } });
const receiver = await startReceiver();
after(() => receiver.close());
receiver.respond(() => ({ status: 200, delayMs: 40 }));

test('SIGKILL of a worker mid-run loses no event', { timeout: 90_000 }, async () => {
  const t = await tenant(app);
  await eventType(t, 'job.done');
  await subscription(t, { url: receiver.url, eventTypes: ['job.done'] });
  const published: string[] = [];
  for (let batch = 0; batch < 3; batch++) {
    const result = await app.gql(PUBLISH_MANY, { input: { events: Array.from({ length: 100 }, (_, i) => ({ eventType: 'job.done', payload: { n: batch * 100 + i } })) } }, t.key);
    assert.deepEqual(result.data.eventsPublish.userErrors, []);
    published.push(...result.data.eventsPublish.events.map((e: any) => e.id));
  }

  const first = spawnHookgraph('worker', app.env);
  await receiver.waitFor(40, 30_000);
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  const atKill = receiver.requests.length;
  assert.ok(atKill < published.length, `the worker finished everything (${atKill}) before it was killed`);

  const killedAt = Date.now();
  const second = spawnHookgraph('worker', { ...app.env, HOOKGRAPH_LOG_LEVEL: 'info' });
  after(() => second.stop());
  await second.waitForLog('ready');
  const readyAt = Date.now();
  const ids = await eventually(async () => {
    const seen = new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));
    return published.every((id) => seen.has(id)) ? seen : undefined;
  }, 60_000, 'every event to be delivered');
  assert.equal(ids.size, published.length);
  const duplicates = receiver.requests.length - ids.size;
  // The killed batches were in flight: their requests may have reached the receiver before the kill.
  const resumedAt = receiver.requests[atKill]?.receivedAt ?? 0;
  console.log(`crash test: ${published.length} events, ${atKill} received before SIGKILL, ${duplicates} duplicates after recovery; second worker ready after ${readyAt - killedAt} ms, first delivery after ${resumedAt - killedAt} ms, all after ${Date.now() - killedAt} ms`);
  assert.ok(duplicates <= 4 * 25, `${duplicates} duplicates: more than the killed worker had in flight`);

  await allSucceeded(app, published.length);
});

test('SIGKILL of a worker mid-run keeps each ordering key in publish order', { timeout: 90_000 }, async () => {
  const t = await tenant(app);
  await eventType(t, 'step.done');
  const sink = await startReceiver();
  after(() => sink.close());
  sink.respond(() => ({ status: 200, delayMs: 40 }));
  await subscription(t, { url: sink.url, eventTypes: ['step.done'], orderingKey: 'data.key' });
  const KEYS = 10;
  const EACH = 20;
  const published: string[] = [];
  const result = await app.gql(
    PUBLISH_MANY,
    { input: { events: Array.from({ length: KEYS * EACH }, (_, i) => ({ eventType: 'step.done', payload: { key: `k${i % KEYS}`, n: Math.floor(i / KEYS) } })) } },
    t.key,
  );
  assert.deepEqual(result.data.eventsPublish.userErrors, []);
  published.push(...result.data.eventsPublish.events.map((e: any) => e.id));

  const first = spawnHookgraph('worker', app.env);
  await sink.waitFor(30, 30_000);
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  assert.ok(sink.requests.length < published.length, 'the worker was killed mid-run');
  const second = spawnHookgraph('worker', app.env);
  after(() => second.stop());
  await eventually(async () => {
    const seen = new Set(sink.requests.map((r) => String(r.headers['webhook-id'])));
    return published.every((id) => seen.has(id));
  }, 60_000, 'every event to be delivered');
  // Per key, each event first arrives after the one published before it (a re-sent attempt may repeat one).
  const firstArrivals = new Map<string, number[]>();
  for (const request of sink.requests) {
    const { key, n } = JSON.parse(request.body).data as { key: string; n: number };
    const list = firstArrivals.get(key) ?? [];
    if (!list.includes(n)) list.push(n);
    firstArrivals.set(key, list);
  }
  assert.equal(firstArrivals.size, KEYS);
  for (const [key, ns] of firstArrivals) assert.deepEqual(ns, Array.from({ length: EACH }, (_, i) => i), key);
  await second.stop();
});

test('a PostgreSQL restart under a running worker loses no event', { timeout: 120_000 }, async () => {
  const server = await startOwnPostgres('pg-restart');
  const own = await startTestApp({ label: 'pg_restart', role: 'api', server: server.url, env: { HOOKGRAPH_DELIVERY_TIMEOUT: '1s', HOOKGRAPH_WORKER_BATCH_SIZE: '25' } });
  const sink = await startReceiver();
  sink.respond(() => ({ status: 200, delayMs: 40 }));
  const worker = spawnHookgraph('worker', { ...own.env, HOOKGRAPH_LOG_LEVEL: 'info' });
  try {
    const t = await tenant(own);
    await eventType(t, 'job.done');
    await subscription(t, { url: sink.url, eventTypes: ['job.done'] });
    await worker.waitForLog('ready');
    const published: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const result = await own.gql(PUBLISH_MANY, { input: { events: Array.from({ length: 100 }, (_, i) => ({ eventType: 'job.done', payload: { n: batch * 100 + i } })) } }, t.key);
      assert.deepEqual(result.data.eventsPublish.userErrors, []);
      published.push(...result.data.eventsPublish.events.map((e: any) => e.id));
    }
    await sink.waitFor(40, 30_000);
    await server.restart();
    const atRestart = sink.requests.length;
    assert.ok(atRestart < published.length, `the worker finished everything (${atRestart}) before PostgreSQL restarted`);
    const ids = await eventually(async () => {
      const seen = new Set(sink.requests.map((r) => String(r.headers['webhook-id'])));
      return published.every((id) => seen.has(id)) ? seen : undefined;
    }, 60_000, 'every event to be delivered after the restart');
    assert.equal(ids.size, published.length);
    console.log(`restart test: ${published.length} events, ${atRestart} received when PostgreSQL was back, ${sink.requests.length - ids.size} duplicates`);
    await allSucceeded(own, published.length);
    assert.equal(worker.child.exitCode, null, 'the worker process kept running through the restart');
  } finally {
    await worker.stop();
    await sink.close();
    await own.stop();
    await server.stop();
  }
});

/** Waits until every delivery is SUCCEEDED (the pool may need a moment to reconnect). */
async function allSucceeded(target: TestApp, count: number): Promise<void> {
  let last: unknown = 'nothing yet';
  const check = async () => {
    try {
      const { rows: statuses } = await target.app.pool.query(`select status, count(*)::int as n from delivery group by status`);
      last = statuses;
      return statuses.length === 1 && statuses[0].status === 'SUCCEEDED' && statuses[0].n === count ? statuses : undefined;
    } catch (error) {
      last = (error as Error).message;
      return undefined;
    }
  };
  await eventually(check, 30_000, 'every delivery SUCCEEDED').catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
  });
}
