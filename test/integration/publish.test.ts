import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { errorCode } from '../helpers/graphql.js';
import { startReceiver } from '../helpers/receiver.js';
import { deliveriesOf, eventType, eventually, publish, PUBLISH, PUBLISH_MANY, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

const app = await startTestApp({ label: 'publish', env: { HOOKGRAPH_MAX_PAYLOAD_BYTES: '2048' } });
const receiver = await startReceiver();
after(() => receiver.close());

/** Rows of every table publishing writes, and pg-boss jobs of the delivery queues. */
async function counts(): Promise<{ events: number; deliveries: number; jobs: number }> {
  const { rows } = await app.app.pool.query(
    `select (select count(*)::int from event) as events, (select count(*)::int from delivery) as deliveries,
            (select count(*)::int from pgboss.job where name like 'hookgraph-delivery%') as jobs`,
  );
  return rows[0];
}

async function freshTenant(): Promise<Tenant> {
  const t = await tenant(app);
  await eventType(t, 'order.created', { type: 'object', required: ['orderId'], properties: { orderId: { type: 'integer' }, items: { type: 'array', items: { type: 'object', properties: { price: { type: 'number' } } } } } });
  await eventType(t, 'order.cancelled');
  await eventType(t, 'user.signed-up');
  return t;
}

test('fan-out: one delivery per matching subscription; pattern and filter non-matches get nothing', async () => {
  const t = await freshTenant();
  const all = await subscription(t, { url: receiver.url + '?all', eventTypes: ['*'] });
  const orders = await subscription(t, { url: receiver.url + '?orders', eventTypes: ['order.*'] });
  // Filters see the delivered body {id, type, timestamp, data}: payload fields under "data.", and the type.
  const big = await subscription(t, { url: receiver.url + '?big', eventTypes: ['order.created'], filter: { 'data.orderId': { $gte: 100 } } });
  const created = await subscription(t, { url: receiver.url + '?created', eventTypes: ['order.*'], filter: { type: 'order.created' } });
  const users = await subscription(t, { url: receiver.url + '?users', eventTypes: ['user.*'] });
  const disabled = await subscription(t, { url: receiver.url + '?disabled', eventTypes: ['*'], status: 'DISABLED' });

  const small = await publish(t, 'order.created', { orderId: 5 });
  const large = await publish(t, 'order.created', { orderId: 500 });
  const cancelled = await publish(t, 'order.cancelled', { orderId: 500 });
  const ids = (list: any[]) => list.map((d) => d.webhookSubscription.id).sort();
  assert.deepEqual(ids(await settled(t, small.id)), [all.id, orders.id, created.id].sort());
  assert.deepEqual(ids(await settled(t, large.id)), [all.id, orders.id, big.id, created.id].sort());
  assert.deepEqual(ids(await settled(t, cancelled.id)), [all.id, orders.id].sort());
  const hits = receiver.requests.filter((r) => r.headers['webhook-id'] === large.id).map((r) => r.path).sort();
  assert.deepEqual(hits, ['/hook?all', '/hook?big', '/hook?created', '/hook?orders']);
  assert.equal(receiver.requests.some((r) => r.path === '/hook?users' || r.path === '/hook?disabled'), false);
  void users;
  void disabled;
});

test('an event nobody subscribes to is stored with no deliveries', async () => {
  const t = await freshTenant();
  const event = await publish(t, 'user.signed-up', { id: 1 });
  assert.deepEqual(await deliveriesOf(t, event.id), []);
  const read = await app.gql('query($id: ID!) { event(id: $id) { id eventType payload } }', { id: event.id }, t.key);
  assert.deepEqual(read.data.event.payload, { id: 1 });
});

test('idempotencyKey: a repeat returns the original event and creates nothing', async () => {
  const t = await freshTenant();
  await subscription(t, { url: receiver.url, eventTypes: ['order.*'] });
  const first = await publish(t, 'order.created', { orderId: 1 }, { idempotencyKey: 'order-1' });
  await settled(t, first.id);
  const before = await counts();
  const again = await publish(t, 'order.created', { orderId: 999 }, { idempotencyKey: 'order-1' });
  assert.equal(again.id, first.id);
  assert.deepEqual(await counts(), before);
  // In a batch: a repeat of an earlier key, and a repeat inside the batch.
  const batch = await app.gql(PUBLISH_MANY, { input: { events: [
    { eventType: 'order.created', payload: { orderId: 2 }, idempotencyKey: 'order-1' },
    { eventType: 'order.created', payload: { orderId: 3 }, idempotencyKey: 'order-3' },
    { eventType: 'order.created', payload: { orderId: 3 }, idempotencyKey: 'order-3' },
  ] } }, t.key);
  const events = batch.data.eventsPublish.events;
  assert.equal(events[0].id, first.id);
  assert.equal(events[1].id, events[2].id);
  assert.equal((await counts()).events, before.events + 1);
  // Keys are per tenant.
  const other = await freshTenant();
  const elsewhere = await publish(other, 'order.created', { orderId: 1 }, { idempotencyKey: 'order-1' });
  assert.notEqual(elsewhere.id, first.id);
});

test('an idempotency key older than 24 h may be used again', async () => {
  const t = await freshTenant();
  const first = await publish(t, 'order.cancelled', {}, { idempotencyKey: 'k' });
  await app.app.pool.query(`update event set created_at = now() - interval '25 hours' where id = $1`, [first.id]);
  const second = await publish(t, 'order.cancelled', {}, { idempotencyKey: 'k' });
  assert.notEqual(second.id, first.id);
});

test('schema-invalid, oversize, unknown and archived publishes are userErrors and change nothing', async () => {
  const t = await freshTenant();
  await subscription(t, { url: receiver.url, eventTypes: ['*'] });
  const before = await counts();
  const invalid = await app.gql(PUBLISH, { input: { eventType: 'order.created', payload: { orderId: 1, items: [{ price: 'free' }] } } }, t.key);
  assert.deepEqual(invalid.data.eventPublish.userErrors.map((e: any) => [e.code, e.field]), [['SCHEMA_MISMATCH', ['input', 'payload', 'items', '0', 'price']]]);
  assert.equal(invalid.data.eventPublish.event, null);

  const oversize = await app.gql(PUBLISH, { input: { eventType: 'order.cancelled', payload: { blob: 'x'.repeat(2048) } } }, t.key);
  assert.deepEqual(oversize.data.eventPublish.userErrors.map((e: any) => [e.code, e.field]), [['TOO_LARGE', ['input', 'payload']]]);

  const unknown = await app.gql(PUBLISH, { input: { eventType: 'order.shipped', payload: {} } }, t.key);
  assert.deepEqual(unknown.data.eventPublish.userErrors.map((e: any) => [e.code, e.field]), [['NOT_FOUND', ['input', 'eventType']]]);

  const archived = await app.gql('mutation { eventTypeArchive(input: {name: "user.signed-up"}) { userErrors { message } } }', {}, t.key);
  assert.deepEqual(archived.data.eventTypeArchive.userErrors, []);
  const toArchived = await app.gql(PUBLISH, { input: { eventType: 'user.signed-up', payload: {} } }, t.key);
  assert.deepEqual(toArchived.data.eventPublish.userErrors.map((e: any) => [e.code, e.field]), [['ARCHIVED', ['input', 'eventType']]]);

  // One bad event rejects the whole batch; the field names its index.
  const batch = await app.gql(PUBLISH_MANY, { input: { events: [
    { eventType: 'order.cancelled', payload: { ok: true } },
    { eventType: 'order.cancelled', payload: { ok: true } },
    { eventType: 'order.cancelled', payload: { ok: true } },
    { eventType: 'order.created', payload: { orderId: 'nope' } },
  ] } }, t.key);
  assert.equal(batch.data.eventsPublish.events, null);
  assert.deepEqual(batch.data.eventsPublish.userErrors.map((e: any) => [e.code, e.field]), [['SCHEMA_MISMATCH', ['input', 'events', '3', 'payload', 'orderId']]]);

  const tooMany = await app.gql(PUBLISH_MANY, { input: { events: Array.from({ length: 501 }, () => ({ eventType: 'order.cancelled', payload: {} })) } }, t.key);
  assert.deepEqual(tooMany.data.eventsPublish.userErrors.map((e: any) => [e.code, e.field]), [['TOO_LARGE', ['input', 'events']]]);
  assert.deepEqual(await counts(), before);
});

test('publishing needs PUBLISH or ADMIN; reading needs READ', async () => {
  const t = await freshTenant();
  const read = await app.createKey(t.key, ['READ']);
  const publisher = await app.createKey(t.key, ['PUBLISH']);
  const input = { eventType: 'order.cancelled', payload: {} };
  assert.equal(errorCode(await app.gql(PUBLISH, { input }, read.key)), 'FORBIDDEN');
  const ok = await app.gql(PUBLISH, { input }, publisher.key);
  assert.ok(ok.data.eventPublish.event.id);
  assert.equal(errorCode(await app.gql('{ events { nodes { id } } }', {}, publisher.key)), 'FORBIDDEN');
  const listed = await app.gql('{ events(filter: {eventTypes: ["order.cancelled"]}) { nodes { id eventType } } }', {}, read.key);
  assert.deepEqual(listed.data.events.nodes.map((e: any) => e.id), [ok.data.eventPublish.event.id]);
  assert.equal(errorCode(await app.gql(PUBLISH, { input })), 'UNAUTHENTICATED');
});

test("another tenant's events and deliveries behave like ids that do not exist", async () => {
  const a = await freshTenant();
  const b = await freshTenant();
  await subscription(a, { url: receiver.url, eventTypes: ['*'] });
  const event = await publish(a, 'order.cancelled', {});
  const [delivery] = await settled(a, event.id);
  const asB = await app.gql('query($e: ID!, $d: ID!) { event(id: $e) { id } delivery(id: $d) { id } deliveries(filter: {eventId: $e}) { nodes { id } } }', { e: event.id, d: delivery.id }, b.key);
  assert.deepEqual(asB.data, { event: null, delivery: null, deliveries: { nodes: [] } });
  const retry = await app.gql('mutation($id: ID!) { deliveryRetry(input: {id: $id}) { userErrors { code } } }', { id: delivery.id }, b.key);
  assert.deepEqual(retry.data.deliveryRetry.userErrors, [{ code: 'NOT_FOUND' }]);
});

test('a publish that fails inside its transaction leaves no event, delivery or job', async () => {
  const t = await freshTenant();
  await subscription(t, { url: receiver.url, eventTypes: ['*'] });
  const before = await counts();
  // Fail the pg-boss job insert, the last write of the transaction: the event and delivery rows are already in.
  const { pool } = app.app;
  await pool.query(`create or replace function fail_delivery() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
  await pool.query('create trigger fail_delivery before insert on pgboss.job for each row execute function fail_delivery()');
  try {
    const result = await app.gql(PUBLISH, { input: { eventType: 'order.cancelled', payload: { n: 1 } } }, t.key);
    assert.equal(errorCode(result), 'INTERNAL_SERVER_ERROR');
  } finally {
    await pool.query('drop trigger fail_delivery on pgboss.job');
  }
  assert.deepEqual(await counts(), before);
  // And the same publish goes through once the fault is gone.
  const event = await publish(t, 'order.cancelled', { n: 1 });
  assert.equal((await settled(t, event.id)).length, 1);
});

test('a publish racing a subscription delete succeeds and delivers only to the subscriptions left', async () => {
  const t = await freshTenant();
  const doomed = await subscription(t, { url: receiver.url + '?doomed', eventTypes: ['order.cancelled'] });
  const kept = await subscription(t, { url: receiver.url + '?kept', eventTypes: ['order.cancelled'] });
  // Publish once so the subscription cache holds both.
  await settled(t, (await publish(t, 'order.cancelled', { n: 0 })).id);
  const { pool } = app.app;
  // The delete is held open in a transaction so the publish runs exactly in between (a GraphQL delete commits at once).
  const deleter = await pool.connect();
  try {
    await deleter.query('begin');
    await deleter.query('delete from webhook_subscription where id = $1', [doomed.id]);
    const publishing = app.gql(PUBLISH, { input: { eventType: 'order.cancelled', payload: { n: 1 } } }, t.key);
    await eventually(async () => {
      const { rows } = await pool.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%insert into delivery%'`);
      return rows.length > 0;
    }, 5000, 'the publish to wait for the deleted subscription');
    await deleter.query('commit');
    const result = await publishing;
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const event = result.data.eventPublish.event;
    assert.deepEqual((await settled(t, event.id)).map((d) => d.webhookSubscription.id), [kept.id]);
  } finally {
    await deleter.query('rollback').catch(() => undefined);
    deleter.release();
  }
});
