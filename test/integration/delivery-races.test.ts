import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { circuitPolicy } from '../../src/delivery/circuit.js';
import { deliveryJob, queueFor } from '../../src/delivery/jobs.js';
import { recordAttempts, type FinishedAttempt } from '../../src/delivery/record.js';
import type { DeliveryWorker } from '../../src/delivery/worker.js';
import { DeliveryStatus } from '../../src/domain/entities/Delivery.js';
import { generateSigningSecret, sealSecret } from '../../src/domain/secrets.js';
import * as deliveries from '../../src/store/deliveries.js';
import { startTestApp } from '../helpers/app.js';
import { startWorker as startWorkerFor } from '../helpers/worker.js';
import { startReceiver } from '../helpers/receiver.js';
import { DELIVERY, deliveriesOf, eventType, eventually, publish, publishMany as publishManyOf, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

/*
 * Races between delivery workers, subscription changes and pg-boss re-runs.
 * The api role only sends jobs; each test starts its own worker(s) once the
 * situation it needs is set up, and stops them at its end.
 */
// Some tests fail one subscription's deliveries many times over (30 INTERNAL attempts): past the circuit
// breaker's default threshold, which has its own tests (circuit-breaker.test.ts).
const app = await startTestApp({ label: 'delivery-races', role: 'api', env: { HOOKGRAPH_CIRCUIT_FAILURES: '1000' } });
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

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('deleting a subscription while its deliveries are in flight does not re-send the rest of the batch', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  receiver.respond(async (request) => {
    if (request.path.endsWith('?doomed')) await gate;
    return { status: 200 };
  });
  const doomed = await subscription(t, { url: receiver.url + '?doomed', eventTypes: ['item.moved'] });
  const kept = await subscription(t, { url: receiver.url + '?kept', eventTypes: ['item.moved'] });
  const events = await publishMany(t, 12);
  const worker = await startWorker();
  try {
    // Every delivery was sent; the doomed ones are held open, so their batches cannot record yet.
    await receiver.waitFor(24);
    const deleted = await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: doomed.id }, t.key);
    assert.deepEqual(deleted.data.webhookSubscriptionDelete.userErrors, []);
    release();
    for (const id of events) assert.deepEqual((await settled(t, id)).map((d) => [d.webhookSubscription.id, d.status, d.attemptCount]), [[kept.id, 'SUCCEEDED', 1]]);
    await pause(500);
    assert.equal(receiver.requests.filter((r) => r.path.endsWith('?kept')).length, 12, 'each kept delivery sent once');
    assert.equal(receiver.requests.length, 24);
  } finally {
    release();
    await worker.stop();
  }
});

test('stop fetches nothing new, lets the attempts in flight finish and commits their outcomes before it resolves', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  receiver.respond(async () => {
    await gate;
    return { status: 200 };
  });
  await subscription(t, { url: receiver.url, eventTypes: ['item.moved'] });
  const inFlight = await publishMany(t, 5);
  const worker = await startWorker();
  let next: DeliveryWorker | undefined;
  try {
    await receiver.waitFor(5);
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    const later = await publishMany(t, 3);
    await pause(300);
    assert.equal(stopped, false, 'stop waits for the attempts in flight');
    release();
    await stopping;
    const deliveries = (await Promise.all(inFlight.map((id) => deliveriesOf(t, id)))).flat();
    assert.deepEqual(deliveries.map((d) => d.status), Array(5).fill('SUCCEEDED'), 'outcomes committed before stop resolved');
    const { rows: jobs } = await pool.query(`select distinct state from pgboss.job where data->>'d' = any($1::text[]) or data->'b' ?| $1::text[]`, [deliveries.map((d) => d.id)]);
    assert.deepEqual(jobs.map((j) => j.state), ['completed'], 'their jobs completed with them');
    for (const id of later) assert.equal((await deliveriesOf(t, id))[0].status, 'PENDING', 'published during the stop: left for another worker');
    assert.equal(receiver.requests.length, 5);
    next = await startWorker();
    for (const id of later) await settled(t, id, ['SUCCEEDED']);
    assert.equal(receiver.requests.length, 8);
  } finally {
    release();
    await worker.stop();
    await next?.stop();
  }
});

test('an attempt that fails inside hookgraph is a failed attempt of that delivery only', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  const broken = await subscription(t, { url: receiver.url + '?broken', eventTypes: ['item.moved'] });
  const fine = await subscription(t, { url: receiver.url + '?fine', eventTypes: ['item.moved'] });
  // A signing secret sealed under another key (a wrong HOOKGRAPH_SECRET_KEY) no longer opens.
  await pool.query('update webhook_subscription set secret_encrypted = $1 where id = $2', [sealSecret(randomBytes(32), generateSigningSecret(), broken.id), broken.id]);
  const events = await publishMany(t, 10);
  const worker = await startWorker();
  try {
    for (const id of events) {
      const deliveries = await settled(t, id);
      const bad = deliveries.find((d) => d.webhookSubscription.id === broken.id);
      const good = deliveries.find((d) => d.webhookSubscription.id === fine.id);
      assert.equal(good.status, 'SUCCEEDED');
      assert.equal(good.attemptCount, 1);
      assert.equal(bad.status, 'FAILED');
      assert.deepEqual(bad.attempts.map((a: any) => [a.attemptNumber, a.errorKind, a.responseStatus]), [[1, 'INTERNAL', null], [2, 'INTERNAL', null], [3, 'INTERNAL', null]]);
      assert.doesNotMatch(bad.attempts[0].error, /whsec_/);
    }
    await pause(300);
    assert.equal(receiver.requests.filter((r) => r.path.endsWith('?fine')).length, 10, 'each good delivery sent once');
    assert.equal(receiver.requests.filter((r) => r.path.endsWith('?broken')).length, 0);
  } finally {
    await worker.stop();
  }
});

test('a worker whose job expired and was re-run elsewhere records its try but cannot undo the newer outcome', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // The first worker's request hangs and then fails; the re-run's request succeeds at once.
  receiver.respond(async (_request, index) => {
    if (index > 0) return { status: 200 };
    await gate;
    return { status: 500 };
  });
  await subscription(t, { url: receiver.url, eventTypes: ['item.moved'] });
  const event = await publish(t, 'item.moved', { n: 1 });
  const first = await startWorker();
  let second: DeliveryWorker | undefined;
  try {
    await receiver.waitFor(1);
    const [delivery] = await deliveriesOf(t, event.id);
    assert.equal(delivery.status, 'SENDING');
    // Let pg-boss's own supervisor find the job expired (as if the first worker had stalled past expireInSeconds).
    const { rows: jobs } = await pool.query(`update pgboss.job set started_on = started_on - interval '1 hour' where data->>'d' = $1 and state = 'active' returning name`, [delivery.id]);
    assert.equal(jobs.length, 1);
    await boss.supervise(jobs[0].name);
    second = await startWorker();
    await eventually(async () => (await deliveriesOf(t, event.id))[0].status === 'SUCCEEDED', 10_000, 'the re-run to succeed');
    release();
    await eventually(async () => (await deliveriesOf(t, event.id))[0].attempts.length === 2, 10_000, 'the late attempt to be recorded');
    await pause(500);
    const [after] = await deliveriesOf(t, event.id);
    assert.equal(after.status, 'SUCCEEDED', 'the late 500 does not flip the delivery back');
    assert.equal(after.attemptCount, 1);
    assert.deepEqual(after.attempts.map((a: any) => [a.attemptNumber, a.responseStatus]), [[1, 200], [2, 500]]);
    assert.equal(receiver.requests.length, 2, 'no retry was scheduled for the late failure');
  } finally {
    release();
    await second?.stop();
    await first.stop();
  }
});

test('of two jobs for one delivery in a batch, only the current attempt acts; the stale one completes', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  receiver.respond(() => ({ status: 500 }));
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['item.moved'] });
  const event = await publish(t, 'item.moved', { n: 2 });
  const [delivery] = await deliveriesOf(t, event.id);
  // The delivery has moved on to its last scheduled attempt (job `current`), and a re-run of its first
  // job (a=0) shows up in the same batch. The stale job goes last by every order pg-boss could return
  // them in (priority, insertion, id): the bug needed it after the current one.
  await pool.query(`update delivery set status = 'RETRYING', attempt_count = 1 where id = $1`, [delivery.id]);
  const queue = queueFor(false, delivery.id);
  const { rows: published } = await pool.query(`select id from pgboss.job where name = $1 and data->>'d' = $2`, [queue, delivery.id]);
  await boss.deleteJob(queue, published.map((r) => r.id));
  const target = { deliveryId: delivery.id, webhookSubscriptionId: sub.id, ordered: false };
  const current = { ...deliveryJob({ ...target, attemptCount: 1, scheduleIndex: services.config.retrySchedule.length - 1 }), priority: 1 };
  const stale = { ...deliveryJob({ ...target, attemptCount: 0, scheduleIndex: 0 }), id: `ffffffff-ffff-4fff-bfff-${randomBytes(6).toString('hex')}` };
  await boss.insert(queue, [current]);
  await boss.insert(queue, [stale]);
  const worker = await startWorker();
  try {
    const [d] = await settled(t, event.id);
    await pause(500);
    const full = (await app.gql(DELIVERY, { id: delivery.id }, t.key)).data.delivery;
    assert.equal(d.status, 'FAILED');
    assert.equal(full.attemptCount, 2, 'one attempt, made as the last step of the schedule');
    assert.equal(receiver.requests.length, 1);
    const { rows } = await pool.query(`select id, state from pgboss.job where data->>'d' = $1 order by id`, [delivery.id]);
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.state === 'completed'), JSON.stringify(rows));
  } finally {
    await worker.stop();
  }
});

test('webhookSubscriptionReplay of a CANCELLED delivery delivers it', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['item.moved'] });
  const since = new Date(Date.now() - 1000);
  const event = await publish(t, 'item.moved', { n: 3 });
  const update = 'mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { userErrors { message } } }';
  await app.gql(update, { input: { id: sub.id, status: 'DISABLED' } }, t.key);
  const worker = await startWorker();
  try {
    const [cancelled] = await settled(t, event.id);
    assert.equal(cancelled.status, 'CANCELLED');
    await app.gql(update, { input: { id: sub.id, status: 'ENABLED' } }, t.key);
    const replay = await app.gql('mutation($input: WebhookSubscriptionReplayInput!) { webhookSubscriptionReplay(input: $input) { count userErrors { message } } }', { input: { id: sub.id, since } }, t.key);
    assert.equal(replay.data.webhookSubscriptionReplay.count, 1);
    const [delivered] = await settled(t, event.id, ['SUCCEEDED'], 5000);
    assert.equal(delivered.attemptCount, 1);
    assert.equal(receiver.requests.length, 1);
  } finally {
    await worker.stop();
  }
});

// Last in this file: its delivery's job stays queued (the api role sends no attempts) and no worker follows.
test('two finished attempts of one delivery in one group commit get their own numbers; the later one decides, announced once', async () => {
  const t = await freshTenant();
  const receiver = await startReceiver();
  await subscription(t, { url: receiver.url, eventTypes: ['item.moved'] });
  const event = await publish(t, 'item.moved', { n: 'twice' });
  const [pending] = await deliveriesOf(t, event.id);
  const updates = services.live.pubsub.subscribe('delivery', t.tenantId);
  try {
    const row = (await deliveries.forSending(services.db, [pending.id])).get(pending.id)!;
    // Both runs of the job claimed it at count 0 (a re-run may claim a SENDING delivery).
    await services.db.transaction((tx) => deliveries.markSending(tx, [{ row, attemptCount: 0 }]));
    const startedAt = new Date();
    const first: FinishedAttempt = {
      row,
      claimedCount: 0,
      requestHeaders: {},
      result: { startedAt, durationMs: 300, status: 200 },
      outcome: { status: DeliveryStatus.SUCCEEDED, nextAttemptAt: null, nextScheduleIndex: null, subscription: 'success', lastError: null },
    };
    const rerun: FinishedAttempt = {
      row,
      claimedCount: 0,
      requestHeaders: {},
      result: { startedAt: new Date(startedAt.getTime() + 100), durationMs: 50, status: 500, errorKind: 'HTTP_STATUS', error: 'HTTP 500' },
      outcome: { status: DeliveryStatus.RETRYING, nextAttemptAt: new Date(Date.now() + 3_600_000), nextScheduleIndex: 1, subscription: 'failure', lastError: 'HTTP 500' },
    };
    // The re-run finished first; the first run, which finished last, is the outcome. Given in start order (not
    // finish order), so only ordering by finish time numbers and decides them right.
    const recorded = await services.db.transaction((tx) =>
      recordAttempts(tx, [first, rerun], { disableAfterMs: services.config.disableAfterMs, circuit: circuitPolicy(services.config) }),
    );
    assert.deepEqual(recorded.applied.map((a) => [a.attempt.outcome.status, a.attemptNumber]), [['SUCCEEDED', 2]]);
    const read = (await app.gql(DELIVERY, { id: pending.id }, t.key)).data.delivery;
    assert.equal(read.status, 'SUCCEEDED');
    assert.equal(read.attemptCount, 2);
    assert.deepEqual(read.attempts.map((a: any) => [a.attemptNumber, a.responseStatus]).sort(), [[1, 500], [2, 200]]);
    const announced: { status: string; attemptCount: number }[] = [];
    for (;;) {
      const next = await Promise.race([updates.next(), pause(1000).then(() => undefined)]);
      if (!next || next.done) break;
      if (next.value.id === pending.id) announced.push({ status: next.value.status, attemptCount: next.value.attemptCount });
    }
    assert.deepEqual(announced, [{ status: 'SENDING', attemptCount: 0 }, { status: 'SUCCEEDED', attemptCount: 2 }]);
  } finally {
    await updates.return();
  }
});
