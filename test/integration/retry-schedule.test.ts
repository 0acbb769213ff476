import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, publish, settled, subscription, tenant } from '../helpers/webhooks.js';

/* A subscription's own retry schedule, against a server schedule of five attempts. */
// Its receivers fail on purpose, many times in a row: the circuit breaker is kept out of the way.
const app = await startTestApp({ label: 'retry-schedule', env: { HOOKGRAPH_RETRY_SCHEDULE: '0,100ms,100ms,100ms,100ms', HOOKGRAPH_CIRCUIT_FAILURES: '1000' } });
const t = await tenant(app);
await eventType(t, 'order.created');

const FIELDS = 'id retrySchedule';
const CREATE = `mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { ${FIELDS} } userErrors { field code message } } }`;
const UPDATE = `mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { webhookSubscription { ${FIELDS} } userErrors { field code message } } }`;
const READ = `query($id: ID!) { webhookSubscription(id: $id) { ${FIELDS} } }`;
const COUNT = '{ webhookSubscriptions(first: 100) { nodes { id } } }';

test("a subscription's retry schedule is followed instead of the server's", async () => {
  const [own, server] = [await startReceiver(), await startReceiver()];
  after(() => Promise.all([own.close(), server.close()]));
  own.respond(() => ({ status: 500 }));
  server.respond(() => ({ status: 500 }));
  const created = await app.gql(CREATE, { input: { url: own.url, eventTypes: ['order.created'], retrySchedule: ['0', '50ms', '1.5s'] } }, t.key);
  assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors, []);
  assert.deepEqual(created.data.webhookSubscriptionCreate.webhookSubscription.retrySchedule, ['0', '50ms', '1500ms']);
  const ownId = created.data.webhookSubscriptionCreate.webhookSubscription.id;
  const serverSub = await subscription(t, { url: server.url, eventTypes: ['order.created'] });
  assert.equal((await app.gql(READ, { id: serverSub.id }, t.key)).data.webhookSubscription.retrySchedule, null);

  const event = await publish(t, 'order.created', { orderId: 'o-1' });
  const deliveries = await settled(t, event.id, ['FAILED'], 20_000);
  const byId = new Map(deliveries.map((d: any) => [d.webhookSubscription.id, d]));
  assert.equal(byId.get(ownId).attemptCount, 3);
  assert.equal(byId.get(serverSub.id).attemptCount, 5);
  assert.equal(own.requests.length, 3);
  assert.equal(server.requests.length, 5);
});

test('update sets, changes and clears the schedule; the worker reads the current one', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  receiver.respond(() => ({ status: 503 }));
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.created'] });
  const set = await app.gql(UPDATE, { input: { id: sub.id, retrySchedule: [' 0 ', '10ms'] } }, t.key);
  assert.deepEqual(set.data.webhookSubscriptionUpdate.userErrors, []);
  assert.deepEqual(set.data.webhookSubscriptionUpdate.webhookSubscription.retrySchedule, ['0', '10ms']);
  const event = await publish(t, 'order.created', { orderId: 'o-2' });
  const [delivery] = await settled(t, event.id, ['FAILED'], 20_000);
  assert.equal(delivery.attemptCount, 2);

  // Other fields leave it alone; null returns to the server's schedule.
  const other = await app.gql(UPDATE, { input: { id: sub.id, description: 'x' } }, t.key);
  assert.deepEqual(other.data.webhookSubscriptionUpdate.webhookSubscription.retrySchedule, ['0', '10ms']);
  const cleared = await app.gql(UPDATE, { input: { id: sub.id, retrySchedule: null } }, t.key);
  assert.equal(cleared.data.webhookSubscriptionUpdate.webhookSubscription.retrySchedule, null);
  const again = await publish(t, 'order.created', { orderId: 'o-3' });
  const [second] = (await settled(t, again.id, ['FAILED'], 20_000)).filter((d: any) => d.webhookSubscription.id === sub.id);
  assert.equal(second.attemptCount, 5);
});

test('a bad retry schedule is a userError naming the field and the entry, and changes nothing', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const before = (await app.gql(COUNT, {}, t.key)).data.webhookSubscriptions.nodes.length;
  for (const [retrySchedule, code, message] of [
    [['0', '5x'], 'INVALID', /entry 2 "5x"/],
    [['0', '8d'], 'INVALID', /entry 2 "8d".*7d/],
    [['0', '-1s'], 'INVALID', /entry 2 "-1s"/],
    [[], 'INVALID', /at least one/],
    [Array.from({ length: 51 }, () => '1s'), 'TOO_LARGE', /at most 50/],
  ] as const) {
    const result = await app.gql(CREATE, { input: { url: receiver.url, eventTypes: ['order.created'], retrySchedule } }, t.key);
    const payload = result.data.webhookSubscriptionCreate;
    assert.equal(payload.webhookSubscription, null);
    assert.equal(payload.userErrors.length, 1);
    assert.deepEqual(payload.userErrors[0].field, ['input', 'retrySchedule']);
    assert.equal(payload.userErrors[0].code, code);
    assert.match(payload.userErrors[0].message, message);
  }
  assert.equal((await app.gql(COUNT, {}, t.key)).data.webhookSubscriptions.nodes.length, before);

  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.created'], retrySchedule: ['0', '1s'] });
  const bad = await app.gql(UPDATE, { input: { id: sub.id, retrySchedule: ['0', 'soon'], description: 'changed?' } }, t.key);
  assert.deepEqual(bad.data.webhookSubscriptionUpdate.userErrors.map((e: any) => [e.field, e.code]), [[['input', 'retrySchedule'], 'INVALID']]);
  const read = await app.gql(`query($id: ID!) { webhookSubscription(id: $id) { retrySchedule description } }`, { id: sub.id }, t.key);
  assert.deepEqual(read.data.webhookSubscription, { retrySchedule: ['0', '1s'], description: null });
});

test("a manual retry is the last step of the subscription's own schedule: FAILED again after one attempt", async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  receiver.respond(() => ({ status: 500 }));
  await eventType(t, 'order.retried');
  // Longer than the server's five: a retry at the server's last step would go on into this schedule's rest.
  await subscription(t, { url: receiver.url, eventTypes: ['order.retried'], retrySchedule: ['0', '50ms', '50ms', '50ms', '50ms', '50ms', '50ms'] });
  const event = await publish(t, 'order.retried', { orderId: 'o-retry' });
  const [failed] = await settled(t, event.id, ['FAILED'], 20_000);
  assert.equal(failed.attemptCount, 7);
  const retried = await app.gql('mutation($id: ID!) { deliveryRetry(input: {id: $id}) { userErrors { code message } } }', { id: failed.id }, t.key);
  assert.deepEqual(retried.data.deliveryRetry.userErrors, []);
  const [again] = await settled(t, event.id, ['FAILED'], 20_000);
  assert.equal(again.attemptCount, 8);
  assert.equal(receiver.requests.length, 8);
});
