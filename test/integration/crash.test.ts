import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { spawnHookgraph } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, eventually, PUBLISH_MANY, subscription, tenant } from '../helpers/webhooks.js';

/**
 * At-least-once under a crash: a worker process is SIGKILLed while batches are
 * in flight; once pg-boss expires its jobs (timeout + 5 s) another worker
 * delivers them. Every event arrives; some may arrive twice.
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

  const { rows } = await app.app.pool.query(`select status, count(*)::int as n from delivery group by status`);
  await eventually(async () => {
    const { rows: statuses } = await app.app.pool.query(`select status, count(*)::int as n from delivery group by status`);
    return statuses.length === 1 && statuses[0].status === 'SUCCEEDED' && statuses[0].n === published.length ? statuses : undefined;
  }, 15_000, `every delivery SUCCEEDED (was ${JSON.stringify(rows)})`);
});
