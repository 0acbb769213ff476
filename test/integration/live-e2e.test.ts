import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { wsClient, type Subscription, type WsClient } from '../helpers/graphql.js';
import { spawnHookgraph } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';

const EVENT_TYPE_CREATE = 'mutation($name: String!) { eventTypeCreate(input: {name: $name}) { userErrors { message } } }';
const SUBSCRIPTION_CREATE =
  'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id } userErrors { field message } } }';
const PUBLISH = 'mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { id } userErrors { field message } } }';
const WATCH = `subscription($filter: DeliveryFilter) {
  deliveryUpdated(filter: $filter) {
    id status attemptCount
    event { id eventType payload }
    webhookSubscription { id url }
    attempts { attemptNumber responseStatus }
  }
}`;

const clients: WsClient[] = [];
after(() => Promise.all(clients.map((c) => c.dispose())));

async function watch(app: TestApp, key: string, variables: Record<string, unknown>): Promise<Subscription<any>> {
  const client = wsClient(app.url, key);
  clients.push(client);
  const before = app.app.services!.live.pubsub.subscriberCount;
  const subscription = client.subscribe(WATCH, variables);
  const deadline = Date.now() + 5000;
  while (app.app.services!.live.pubsub.subscriberCount <= before) {
    if (Date.now() > deadline) throw new Error('subscription was not registered');
    await new Promise((r) => setTimeout(r, 5));
  }
  return subscription;
}

/** A tenant with one event type and one subscription to `url`. */
async function setUp(app: TestApp, url: string) {
  const { adminKey } = await app.createTenant();
  const read = await app.createKey(adminKey, ['READ']);
  assert.deepEqual((await app.gql(EVENT_TYPE_CREATE, { name: 'order.created' }, adminKey)).data.eventTypeCreate.userErrors, []);
  const created = await app.gql(SUBSCRIPTION_CREATE, { input: { url, eventTypes: ['order.*'] } }, adminKey);
  assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors, []);
  return { adminKey, readKey: read.key, subscriptionId: created.data.webhookSubscriptionCreate.webhookSubscription.id as string };
}

async function startReceiverClosedAfter() {
  const started = await startReceiver();
  after(() => started.close());
  return started;
}

async function publish(app: TestApp, key: string, payload: unknown): Promise<string> {
  const result = await app.gql(PUBLISH, { input: { eventType: 'order.created', payload } }, key);
  assert.deepEqual(result.data?.eventPublish.userErrors, [], JSON.stringify(result));
  return result.data.eventPublish.event.id;
}

/** Updates until the delivery reaches a final status. */
async function untilFinal(stream: Subscription<any>): Promise<any[]> {
  const seen = [];
  for (;;) {
    const update = (await stream.next(10_000)).deliveryUpdated;
    seen.push(update);
    if (update.status === 'SUCCEEDED' || update.status === 'FAILED') return seen;
  }
}

test('publish → PENDING → SENDING → RETRYING → SENDING → SUCCEEDED, in order, with nested fields read fresh', async () => {
  const app = await startTestApp({ label: 'live_e2e' });
  const receiver = await startReceiverClosedAfter();
  receiver.replies(500, 200);
  const t = await setUp(app, receiver.url);
  const stream = await watch(app, t.readKey, { filter: { webhookSubscriptionId: t.subscriptionId } });
  const eventId = await publish(app, t.adminKey, { order: 42 });

  const updates = await untilFinal(stream);
  assert.deepEqual(
    updates.map((u) => `${u.status}/${u.attemptCount}`),
    // attemptCount counts finished attempts: SENDING n means attempt n+1 is in flight.
    ['PENDING/0', 'SENDING/0', 'RETRYING/1', 'SENDING/1', 'SUCCEEDED/2'],
  );
  for (const update of updates) {
    assert.equal(update.event.id, eventId);
    assert.deepEqual(update.event.payload, { order: 42 });
    assert.equal(update.webhookSubscription.id, t.subscriptionId);
  }
  // Attempts are recorded before the status changes, and read per update, not cached per subscription.
  assert.deepEqual(updates.at(-1).attempts, [
    { attemptNumber: 1, responseStatus: 500 },
    { attemptNumber: 2, responseStatus: 200 },
  ]);
  // Nested fields are read when each update is sent (so at least the attempt that led to RETRYING is there).
  assert.deepEqual(updates.find((u) => u.status === 'RETRYING').attempts[0], { attemptNumber: 1, responseStatus: 500 });
});

test('a delivery that keeps failing ends FAILED after the last attempt', async () => {
  const app = await startTestApp({ label: 'live_e2e_fail' });
  const receiver = await startReceiverClosedAfter();
  receiver.respond(() => ({ status: 500 }));
  const t = await setUp(app, receiver.url);
  const stream = await watch(app, t.readKey, { filter: { statuses: ['RETRYING', 'FAILED'] } });
  await publish(app, t.adminKey, { order: 1 });
  const updates = await untilFinal(stream);
  assert.deepEqual(
    updates.map((u) => `${u.status}/${u.attemptCount}`),
    ['RETRYING/1', 'RETRYING/2', 'FAILED/3'],
  );
});

test('a client on an api process sees the updates a separate worker process makes', async () => {
  const api = await startTestApp({ label: 'live_two_procs', role: 'api' });
  const worker = spawnHookgraph('worker', { ...api.env, HOOKGRAPH_LOG_LEVEL: 'info' });
  await worker.waitForLog('hookgraph worker started');
  const receiver = await startReceiverClosedAfter();
  const t = await setUp(api, receiver.url);
  const stream = await watch(api, t.readKey, { filter: { webhookSubscriptionId: t.subscriptionId } });
  const eventId = await publish(api, t.adminKey, { order: 7 });
  const updates = await untilFinal(stream);
  assert.deepEqual(
    updates.map((u) => u.status),
    ['PENDING', 'SENDING', 'SUCCEEDED'],
  );
  assert.equal(updates.at(-1).event.id, eventId);
  assert.equal((await receiver.waitFor(1))[0]!.headers['webhook-id'], eventId);
  await worker.stop();
});

test('revoking a key through one api process closes its sockets on another', async () => {
  const api = await startTestApp({ label: 'live_two_apis', role: 'api' });
  const other = spawnHookgraph('api', { ...api.env, HOOKGRAPH_LOG_LEVEL: 'info' });
  const otherUrl = ((await other.waitForLog('hookgraph listening')).url as string).replace(/\/graphql$/, '');
  const { adminKey } = await api.createTenant();
  const read = await api.createKey(adminKey, ['READ']);
  const client = wsClient(otherUrl, read.key);
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.client.on('connected', () => resolve());
    client.closed.then((e) => reject(new Error(`closed ${e.code} ${e.reason}`)));
  });
  const revoked = await api.gql('mutation($id: ID!) { apiKeyRevoke(input: {id: $id}) { userErrors { code } } }', { id: read.id }, adminKey);
  assert.deepEqual(revoked.data.apiKeyRevoke.userErrors, []);
  const { code, reason } = await client.closed;
  assert.equal(code, 4401);
  assert.match(reason, /revoked/);
  await other.stop();
});
