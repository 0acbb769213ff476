import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DELIVERY_QUEUES } from '../../src/delivery/jobs.js';
import { pruneBefore } from '../../src/delivery/retention.js';
import { startTestApp } from '../helpers/app.js';
import { errorCode } from '../helpers/graphql.js';
import { scrape, value } from '../helpers/metrics.js';
import { startReceiver } from '../helpers/receiver.js';
import { DELIVERY, eventType, eventually, publish, settled, subscription, tenant } from '../helpers/webhooks.js';
import { startWorker } from '../helpers/worker.js';

/*
 * The api role only sends jobs; this file runs the delivery worker itself,
 * with an address guard whose DNS answers are scripted (rebind.test resolves
 * to the cloud metadata address at send time).
 */
const app = await startTestApp({ label: 'delivery-ops', role: 'api' });
const services = app.app.services!;
const resolver = async (host: string) => (host === 'rebind.test' ? ['169.254.169.254'] : ['127.0.0.1']);
const worker = await startWorker(app, resolver);
after(() => worker.stop());

const receiver = await startReceiver();
after(() => receiver.close());
const t = await tenant(app);
await eventType(t, 'report.ready');

const RETRY = 'mutation($id: ID!) { deliveryRetry(input: {id: $id}) { delivery { id status } userErrors { field code message } } }';
const REPLAY = 'mutation($input: WebhookSubscriptionReplayInput!) { webhookSubscriptionReplay(input: $input) { count userErrors { field code message } } }';

test('deliveryRetry gives a FAILED delivery one more attempt; other states are refused', async () => {
  let failing = true;
  receiver.respond(() => ({ status: failing ? 500 : 200 }));
  const sub = await subscription(t, { url: receiver.url + '?retry', eventTypes: ['report.ready'] });
  const event = await publish(t, 'report.ready', { n: 1 });
  const [d] = await settled(t, event.id);
  assert.equal(d.status, 'FAILED');
  assert.equal(d.attemptCount, 3);
  failing = false;
  const retried = await app.gql(RETRY, { id: d.id }, t.key);
  assert.deepEqual(retried.data.deliveryRetry.userErrors, []);
  const [after] = await settled(t, event.id, ['SUCCEEDED']);
  assert.equal(after.attemptCount, 4);
  const again = await app.gql(RETRY, { id: d.id }, t.key);
  assert.deepEqual(again.data.deliveryRetry.userErrors.map((e: any) => [e.code, e.field]), [['INVALID_STATE', ['input', 'id']]]);
  const read = await app.createKey(t.key, ['READ']);
  assert.equal(errorCode(await app.gql(RETRY, { id: d.id }, read.key)), 'FORBIDDEN');
  await app.gql('mutation($id: ID!) { webhookSubscriptionUpdate(input: {id: $id, status: DISABLED}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('deliveryRetry finds the pending attempt after the subscription\'s ordered flag was toggled', async () => {
  let answer = 503;
  receiver.respond((request) => (request.path === '/hook?toggle' ? { status: answer, headers: { 'retry-after': '3600' } } : { status: 200 }));
  const sub = await subscription(t, { url: receiver.url + '?toggle', eventTypes: ['report.ready'] });
  const event = await publish(t, 'report.ready', { n: 'toggle' });
  const [d] = await settled(t, event.id, ['RETRYING']);
  const update = 'mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { userErrors { message } } }';
  const toggled = await app.gql(update, { input: { id: sub.id, ordered: true } }, t.key);
  assert.deepEqual(toggled.data.webhookSubscriptionUpdate.userErrors, []);
  answer = 200;
  const retried = await app.gql(RETRY, { id: d.id }, t.key);
  assert.deepEqual(retried.data.deliveryRetry.userErrors, []);
  const [done] = await settled(t, event.id, ['SUCCEEDED'], 5000);
  assert.equal(done.attemptCount, 2);
  await app.gql(update, { input: { id: sub.id, status: 'DISABLED' } }, t.key);
});

test('webhookSubscriptionReplay re-delivers the finished deliveries of a time range', async () => {
  receiver.respond(() => ({ status: 200 }));
  const sub = await subscription(t, { url: receiver.url + '?replay', eventTypes: ['report.ready'] });
  const since = new Date(Date.now() - 1000);
  const events = [await publish(t, 'report.ready', { n: 2 }), await publish(t, 'report.ready', { n: 3 })];
  for (const e of events) await settled(t, e.id);
  const before = receiver.requests.filter((r) => r.path === '/hook?replay').length;
  const onlyFailed = await app.gql(REPLAY, { input: { id: sub.id, since, onlyFailed: true } }, t.key);
  assert.equal(onlyFailed.data.webhookSubscriptionReplay.count, 0);
  const replay = await app.gql(REPLAY, { input: { id: sub.id, since } }, t.key);
  assert.equal(replay.data.webhookSubscriptionReplay.count, 2);
  await eventually(async () => receiver.requests.filter((r) => r.path === '/hook?replay').length === before + 2, 5000, 'replayed requests');
  const ids = receiver.requests.filter((r) => r.path === '/hook?replay').map((r) => r.headers['webhook-id']);
  assert.deepEqual(ids.slice(2).sort(), events.map((e) => e.id).sort(), 'same webhook-id as the original deliveries');
  for (const e of events) assert.equal((await settled(t, e.id))[0].attemptCount, 2);
  const bad = await app.gql(REPLAY, { input: { id: sub.id, since, until: new Date(since.getTime() - 1) } }, t.key);
  assert.deepEqual(bad.data.webhookSubscriptionReplay.userErrors.map((e: any) => e.field), [['input', 'until']]);
  await app.gql('mutation($id: ID!) { webhookSubscriptionUpdate(input: {id: $id, status: DISABLED}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('webhookSubscriptionTest sends a hookgraph.test event to that subscription only', async () => {
  const sub = await subscription(t, { url: receiver.url + '?test', eventTypes: ['nothing.matches'] });
  const other = await subscription(t, { url: receiver.url + '?other', eventTypes: ['*'] });
  const result = await app.gql('mutation($id: ID!) { webhookSubscriptionTest(input: {id: $id}) { event { id eventType payload } userErrors { message } } }', { id: sub.id }, t.key);
  const event = result.data.webhookSubscriptionTest.event;
  assert.equal(event.eventType, 'hookgraph.test');
  const deliveries = await settled(t, event.id);
  assert.deepEqual(deliveries.map((d) => d.webhookSubscription.id), [sub.id]);
  assert.equal(receiver.requests.filter((r) => r.headers['webhook-id'] === event.id).length, 1);
  assert.equal(receiver.requests.some((r) => r.path === '/hook?other' && r.headers['webhook-id'] === event.id), false);
  for (const id of [sub.id, other.id]) await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id }, t.key);
});

test('a host that resolves to a forbidden address at send time is refused (DNS rebinding)', async () => {
  const sub = await subscription(t, { url: receiver.url + '?rebind', eventTypes: ['report.ready'] });
  // It resolved to an allowed address when saved; now point it at a name that rebinds to 169.254.169.254.
  await app.app.pool.query('update webhook_subscription set url = $1 where id = $2', [`http://rebind.test:${receiver.port}/hook?rebind`, sub.id]);
  const event = await publish(t, 'report.ready', { n: 9 });
  const [d] = await settled(t, event.id);
  const full = (await app.gql(DELIVERY, { id: d.id }, t.key)).data.delivery;
  assert.equal(full.status, 'FAILED');
  assert.deepEqual(full.attempts.map((a: any) => a.errorKind), ['BLOCKED_TARGET', 'BLOCKED_TARGET', 'BLOCKED_TARGET']);
  // The attempt names the host, not the address it resolved to.
  assert.match(full.attempts[0].error, /^refused to connect to rebind\.test: it resolves to an address that is not allowed/);
  assert.doesNotMatch(full.attempts[0].error, /169\.254/);
  assert.equal(receiver.requests.some((r) => r.path === '/hook?rebind'), false);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('retention prunes old attempts, finished deliveries and their events, and keeps unfinished ones', async () => {
  receiver.respond(() => ({ status: 200 }));
  const sub = await subscription(t, { url: receiver.url + '?retention', eventTypes: ['report.ready'] });
  const old = await publish(t, 'report.ready', { n: 10 });
  const pending = await publish(t, 'report.ready', { n: 11 });
  await settled(t, old.id);
  await settled(t, pending.id);
  const { pool } = app.app;
  await pool.query(`update delivery set updated_at = now() - interval '40 days' where event_id = any($1::uuid[])`, [[old.id, pending.id]]);
  await pool.query(`update delivery set status = 'RETRYING' where event_id = $1`, [pending.id]);
  await pool.query(`update delivery_attempt set started_at = now() - interval '40 days' where delivery_id in (select id from delivery where event_id = any($1::uuid[]))`, [[old.id, pending.id]]);
  await pool.query(`update event set created_at = now() - interval '40 days' where id = any($1::uuid[])`, [[old.id, pending.id]]);
  const counts = await pruneBefore(services.db, new Date(Date.now() - 30 * 24 * 60 * 60 * 1000));
  assert.ok(counts.attempts >= 2 && counts.deliveries >= 1 && counts.events >= 1, JSON.stringify(counts));
  const left = await pool.query('select id from event where id = any($1::uuid[])', [[old.id, pending.id]]);
  assert.deepEqual(left.rows.map((r) => r.id), [pending.id]);
  const deliveries = await pool.query('select status from delivery where event_id = $1', [pending.id]);
  assert.deepEqual(deliveries.rows, [{ status: 'RETRYING' }]);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('/metrics counts exactly what was published and delivered: events, fan-out, outcomes per attempt, attempt durations, latency; and exposes the queue gauges', async () => {
  await eventType(t, 'metrics.probe');
  await eventType(t, 'metrics.other');
  receiver.respond((request) => ({ status: request.path === '/hook?metrics-failing' ? 500 : 200 }));
  // Two subscriptions take every probe event (one answers 200, one 500 until the 3-step schedule is spent); a third takes none.
  const subs = [
    await subscription(t, { url: receiver.url + '?metrics-ok', eventTypes: ['metrics.probe'] }),
    await subscription(t, { url: receiver.url + '?metrics-failing', eventTypes: ['metrics.*'] }),
    await subscription(t, { url: receiver.url + '?metrics-none', eventTypes: ['metrics.other'] }),
  ];
  const schedule = services.config.retrySchedule.length;
  assert.equal(schedule, 3, 'HOOKGRAPH_RETRY_SCHEDULE of the tests');
  const before = await scrape(app.url);
  const added = (metrics: Map<string, number>, series: string) => value(metrics, series) - (before.get(series) ?? 0);

  const events = [];
  for (let n = 1; n <= 3; n++) events.push(await publish(t, 'metrics.probe', { n }));
  const deliveries = [];
  for (const event of events) deliveries.push(...(await settled(t, event.id)));
  assert.deepEqual(deliveries.map((d) => d.status).sort(), ['FAILED', 'FAILED', 'FAILED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  const attempts = deliveries.reduce((sum, d) => sum + d.attemptCount, 0);
  assert.equal(attempts, 3 * 1 + 3 * schedule);

  // Counters move just after the attempts are recorded: wait for the last one, then check every value exactly.
  const durations = 'hookgraph_delivery_attempt_duration_seconds_count';
  const after = await eventually(async () => {
    const metrics = await scrape(app.url);
    return added(metrics, `${durations}{result="success"}`) + added(metrics, `${durations}{result="failure"}`) >= attempts ? metrics : undefined;
  }, 10_000, 'every attempt to be counted');
  const delta = (series: string) => added(after, series);
  assert.equal(delta('hookgraph_events_published_total'), 3);
  assert.equal(delta('hookgraph_deliveries_created_total'), 3 * 2, 'three events to two matching subscriptions');
  assert.equal(delta('hookgraph_deliveries_total{outcome="SUCCEEDED"}'), 3);
  assert.equal(delta('hookgraph_deliveries_total{outcome="RETRYING"}'), 3 * (schedule - 1), 'every failed attempt but the last leaves its delivery RETRYING');
  assert.equal(delta('hookgraph_deliveries_total{outcome="FAILED"}'), 3);
  const cancelled = 'hookgraph_deliveries_total{outcome="CANCELLED"}';
  assert.equal((after.get(cancelled) ?? 0) - (before.get(cancelled) ?? 0), 0);
  assert.equal(delta(`${durations}{result="success"}`), 3);
  assert.equal(delta(`${durations}{result="failure"}`), 3 * schedule);
  assert.equal(delta('hookgraph_delivery_attempt_duration_seconds_bucket{le="+Inf",result="success"}'), 3);
  assert.equal(delta('hookgraph_delivery_attempt_duration_seconds_bucket{le="+Inf",result="failure"}'), 3 * schedule);
  assert.equal(delta('hookgraph_delivery_latency_seconds_count'), 3, 'latency is observed for successes only');
  assert.equal(delta('hookgraph_delivery_latency_seconds_bucket{le="+Inf"}'), 3);
  assert.ok(delta('hookgraph_delivery_latency_seconds_sum') > 0);
  assert.equal(value(after, 'hookgraph_attempts_in_flight'), 0);
  // The subscription that matched nothing got no request.
  assert.equal(receiver.requests.some((r) => r.path === '/hook?metrics-none'), false);
  for (const queue of DELIVERY_QUEUES) {
    assert.ok(value(after, `hookgraph_queue_depth{queue="${queue}"}`) >= 0, queue);
    assert.equal(value(after, `hookgraph_oldest_due_delivery_seconds{queue="${queue}"}`), 0, queue);
  }
  for (const sub of subs) await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});
