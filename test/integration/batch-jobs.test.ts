import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BATCH_MAX } from '../../src/delivery/jobs.js';
import type { DeliveryWorker } from '../../src/delivery/worker.js';
import { startTestApp } from '../helpers/app.js';
import { startWorker as startWorkerFor } from '../helpers/worker.js';
import { startReceiver } from '../helpers/receiver.js';
import { deliveriesOf, eventType, eventually, publishMany as publishManyOf, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

/*
 * The first attempts of one publish call's deliveries to one subscription
 * share a pg-boss job (up to BATCH_MAX of them). Each delivery is still
 * attempted and recorded on its own; the job completes with its last one,
 * and a re-run of the job (its worker died) sends only what was not recorded.
 */
const app = await startTestApp({ label: 'batch-jobs', role: 'api' });
const services = app.app.services!;
const { pool } = app.app;
const boss = services.boss;

const startWorker = () => startWorkerFor(app);

async function freshTenant(): Promise<Tenant> {
  const t = await tenant(app);
  await eventType(t, 'item.moved');
  return t;
}

const publishMany = (t: Tenant, count: number) => publishManyOf(t, 'item.moved', count);

/** The delivery jobs of these subscriptions: state and how many deliveries each carries. */
async function jobsOf(subscriptionIds: string[]): Promise<{ state: string; deliveries: number }[]> {
  const { rows } = await pool.query(
    `select state, coalesce(jsonb_array_length(data->'b'), 1)::int as deliveries from pgboss.job where group_id = any($1::text[]) and name like 'hookgraph-delivery%' order by 2 desc`,
    [subscriptionIds],
  );
  return rows;
}

test('one publish call: a job per subscription and run of BATCH_MAX deliveries; every delivery arrives once, and the jobs complete', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  const subs = [await subscription(t, { url: receiver.url + '?a', eventTypes: ['item.moved'] }), await subscription(t, { url: receiver.url + '?b', eventTypes: ['item.moved'] })];
  const events = await publishMany(t, BATCH_MAX + 8);
  const queued = await jobsOf(subs.map((s) => s.id));
  // Spread over the shard queues in runs, so a subscription may get a few jobs; far fewer than deliveries.
  assert.equal(queued.reduce((n, j) => n + j.deliveries, 0), 2 * events.length);
  assert.ok(queued.length <= 2 * 4 * 2, `${queued.length} jobs for ${2 * events.length} deliveries`);
  assert.ok(queued.some((j) => j.deliveries > 1), 'deliveries share jobs');
  const worker = await startWorker();
  try {
    await receiver.waitFor(2 * events.length, 30_000);
    await eventually(async () => (await jobsOf(subs.map((s) => s.id))).every((j) => j.state === 'completed'), 10_000, 'every job to complete');
    const ids = receiver.requests.map((r) => `${r.path}:${r.headers['webhook-id']}`);
    assert.equal(new Set(ids).size, 2 * events.length, 'each delivery once');
    for (const id of events) assert.deepEqual((await deliveriesOf(t, id)).map((d) => d.status), ['SUCCEEDED', 'SUCCEEDED']);
  } finally {
    await worker.stop();
  }
});

test('a batch job re-run after its worker stalled sends only the deliveries whose attempt was not recorded', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // The first request for event 0 hangs (its worker "stalls"); everything else answers at once.
  let held = false;
  receiver.respond(async (request) => {
    if (!held && JSON.parse(request.body).data.n === 0) {
      held = true;
      await gate;
    }
    return { status: 200 };
  });
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['item.moved'] });
  const events = await publishMany(t, 10);
  const first = await startWorker();
  let second: DeliveryWorker | undefined;
  try {
    await receiver.waitFor(10);
    await eventually(async () => (await Promise.all(events.slice(1).map((id) => deliveriesOf(t, id)))).every(([d]) => d.status === 'SUCCEEDED'), 10_000, 'the other nine to be recorded');
    const [stuck] = await deliveriesOf(t, events[0]);
    assert.equal(stuck.status, 'SENDING');
    assert.ok((await jobsOf([sub.id])).some((j) => j.state === 'active'), 'the batch job waits for its last delivery');
    // As if the first worker had stalled past the job's expiry: pg-boss's supervisor puts the job up again.
    const { rows } = await pool.query(`update pgboss.job set started_on = started_on - interval '1 hour' where group_id = $1 and state = 'active' returning name`, [sub.id]);
    for (const name of new Set(rows.map((r) => r.name))) await boss.supervise(name);
    second = await startWorker();
    await eventually(async () => (await deliveriesOf(t, events[0]))[0].status === 'SUCCEEDED', 10_000, 'the re-run to deliver the stuck one');
    await eventually(async () => (await jobsOf([sub.id])).every((j) => j.state === 'completed'), 10_000, 'the re-run to complete the job');
    const sent = receiver.requests.map((r) => JSON.parse(r.body).data.n as number).sort((a, b) => a - b);
    assert.deepEqual(sent, [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'only the unrecorded delivery went again');
  } finally {
    release();
    await second?.stop();
    await first.stop();
  }
});
