import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { startTestApp } from '../helpers/app.js';
import { wsClient, type Subscription, type WsClient } from '../helpers/graphql.js';
import { LiveFixtures } from './live-fixtures.js';

const app = await startTestApp({ label: 'live_subs', env: { HOOKGRAPH_LIVE_BUFFER: '20' } });
const db = await LiveFixtures.open(app.db.url);
after(() => db.close());

const DELIVERY_UPDATED = `subscription($filter: DeliveryFilter, $since: DateTime) {
  deliveryUpdated(filter: $filter, since: $since) { id status attemptCount }
}`;

const clients: WsClient[] = [];
after(() => Promise.all(clients.map((c) => c.dispose())));

async function watcher(key: string): Promise<WsClient> {
  const client = wsClient(app.url, key);
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.client.on('connected', () => resolve());
    client.closed.then((e) => reject(new Error(`closed ${e.code} ${e.reason}`)));
  });
  return client;
}

/** Subscribes and waits until the server has the subscription registered (so nothing published next is missed). */
async function subscribed<T = any>(client: WsClient, query: string, variables: Record<string, unknown> = {}): Promise<Subscription<T>> {
  const before = app.app.services!.live.pubsub.subscriberCount;
  const subscription = client.subscribe<T>(query, variables);
  const deadline = Date.now() + 5000;
  while (app.app.services!.live.pubsub.subscriberCount <= before) {
    if (Date.now() > deadline) throw new Error('subscription was not registered');
    await new Promise((r) => setTimeout(r, 5));
  }
  return subscription;
}

async function silent(subscription: Subscription<unknown>, ms = 400): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  assert.deepEqual(subscription.buffered, []);
}

async function tenant() {
  const { tenantId, adminKey } = await app.createTenant();
  const read = await app.createKey(adminKey, ['READ']);
  return { tenantId, adminKey, readKey: read.key };
}

test('deliveryUpdated streams every status change in order, with status and attemptCount of each change', async () => {
  const t = await tenant();
  const sub = await db.subscription(t.tenantId);
  const delivery = await db.delivery(t.tenantId, sub);
  const stream = await subscribed((await watcher(t.readKey)), DELIVERY_UPDATED);
  const steps: [string, number][] = [
    ['SENDING', 1],
    ['RETRYING', 1],
    ['SENDING', 2],
    ['SUCCEEDED', 2],
  ];
  // Back to back: later rows are already SUCCEEDED when earlier changes are sent.
  for (const [status, attempts] of steps) await db.setStatus(delivery.id, status, attempts);
  for (const [status, attempts] of steps) {
    const value = await stream.next();
    assert.deepEqual(value, { deliveryUpdated: { id: delivery.id, status, attemptCount: attempts } });
  }
});

test('filters: webhookSubscriptionId, eventId and statuses narrow the stream', async () => {
  const t = await tenant();
  const [subA, subB] = [await db.subscription(t.tenantId), await db.subscription(t.tenantId)];
  const one = await db.delivery(t.tenantId, subA);
  const two = await db.delivery(t.tenantId, subB);
  const three = await db.delivery(t.tenantId, subA);
  const client = await watcher(t.readKey);
  const bySubscription = await subscribed(client, DELIVERY_UPDATED, { filter: { webhookSubscriptionId: subB } });
  const byEvent = await subscribed(client, DELIVERY_UPDATED, { filter: { eventId: three.eventId } });
  const byStatus = await subscribed(client, DELIVERY_UPDATED, { filter: { statuses: ['FAILED', 'SUCCEEDED'] } });
  const combined = await subscribed(client, DELIVERY_UPDATED, { filter: { webhookSubscriptionId: subA, statuses: ['SENDING'] } });

  await db.setStatus(one.id, 'SENDING', 1);
  await db.setStatus(two.id, 'SENDING', 1);
  await db.setStatus(three.id, 'SENDING', 1);
  await db.setStatus(one.id, 'FAILED', 1);
  await db.setStatus(two.id, 'SUCCEEDED', 1);

  const ids = async (s: Subscription<any>, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = (await s.next()).deliveryUpdated;
      out.push(`${v.id === one.id ? 'one' : v.id === two.id ? 'two' : 'three'}:${v.status}`);
    }
    return out;
  };
  assert.deepEqual(await ids(bySubscription, 2), ['two:SENDING', 'two:SUCCEEDED']);
  assert.deepEqual(await ids(byEvent, 1), ['three:SENDING']);
  assert.deepEqual(await ids(byStatus, 2), ['one:FAILED', 'two:SUCCEEDED']);
  assert.deepEqual(await ids(combined, 2), ['one:SENDING', 'three:SENDING']);
  for (const s of [bySubscription, byEvent, byStatus, combined]) await silent(s, 100);
});

test("a tenant never receives another tenant's updates, whatever filter it sends", async () => {
  const a = await tenant();
  const b = await tenant();
  const subA = await db.subscription(a.tenantId);
  const delivery = await db.delivery(a.tenantId, subA);
  const client = await watcher(b.readKey);
  const all = await subscribed(client, DELIVERY_UPDATED);
  const aimed = await subscribed(client, DELIVERY_UPDATED, { filter: { webhookSubscriptionId: subA, eventId: delivery.eventId } });
  const subs = await subscribed(client, `subscription($id: ID) { webhookSubscriptionUpdated(id: $id) { id status } }`, { id: subA });
  const events = await subscribed(client, 'subscription { eventPublished { id } }');
  const replay = client.subscribe(DELIVERY_UPDATED, { since: new Date(Date.now() - 60_000).toISOString() });

  await db.setStatus(delivery.id, 'SENDING', 1);
  await db.setSubscriptionStatus(subA, 'DISABLED');
  await db.publish(a.tenantId, 'order.created');
  await new Promise((r) => setTimeout(r, 400));
  for (const s of [all, aimed, subs, events, replay]) await silent(s, 0);
});

test('since: the current state of deliveries updated since then comes first, then live changes', async () => {
  const t = await tenant();
  const sub = await db.subscription(t.tenantId);
  const old = await db.delivery(t.tenantId, sub);
  await db.setStatus(old.id, 'SUCCEEDED', 1);
  await new Promise((r) => setTimeout(r, 50));
  const since = new Date();
  const recent = await db.delivery(t.tenantId, sub);
  await db.setStatus(recent.id, 'SENDING', 1);
  await db.setStatus(recent.id, 'RETRYING', 1);
  const other = await db.delivery(t.tenantId, await db.subscription(t.tenantId));
  await db.setStatus(other.id, 'FAILED', 3);

  const client = await watcher(t.readKey);
  const stream = await subscribed(client, DELIVERY_UPDATED, { since: since.toISOString(), filter: { webhookSubscriptionId: sub } });
  // Replayed: only `recent`, once, in its current state.
  assert.deepEqual(await stream.next(), { deliveryUpdated: { id: recent.id, status: 'RETRYING', attemptCount: 1 } });
  await db.setStatus(recent.id, 'SUCCEEDED', 2);
  assert.deepEqual(await stream.next(), { deliveryUpdated: { id: recent.id, status: 'SUCCEEDED', attemptCount: 2 } });
  await silent(stream, 100);
});

test('webhookSubscriptionUpdated streams status changes of the tenant, or of one subscription', async () => {
  const t = await tenant();
  const [one, two] = [await db.subscription(t.tenantId), await db.subscription(t.tenantId)];
  const client = await watcher(t.readKey);
  const query = 'subscription($id: ID) { webhookSubscriptionUpdated(id: $id) { id status url } }';
  const all = await subscribed(client, query);
  const onlyTwo = await subscribed(client, query, { id: two });
  await db.setSubscriptionStatus(one, 'FAILING_DISABLED');
  await db.setSubscriptionStatus(two, 'DISABLED');
  assert.deepEqual(await all.next(), { webhookSubscriptionUpdated: { id: one, status: 'FAILING_DISABLED', url: 'https://example.com/hook' } });
  assert.deepEqual((await all.next()).webhookSubscriptionUpdated.id, two);
  assert.deepEqual(await onlyTwo.next(), { webhookSubscriptionUpdated: { id: two, status: 'DISABLED', url: 'https://example.com/hook' } });
  await silent(onlyTwo, 100);
});

test('eventPublished streams events, narrowed by names or patterns; a bad pattern is an error naming it', async () => {
  const t = await tenant();
  const client = await watcher(t.readKey);
  const query = 'subscription($types: [String!]) { eventPublished(eventTypes: $types) { id eventType } }';
  const orders = await subscribed(client, query, { types: ['order.*'] });
  const all = await subscribed(client, query);
  const invoice = await db.publish(t.tenantId, 'invoice.paid');
  const order = await db.publish(t.tenantId, 'order.created');
  assert.deepEqual(await orders.next(), { eventPublished: { id: order, eventType: 'order.created' } });
  assert.equal((await all.next()).eventPublished.id, invoice);
  assert.equal((await all.next()).eventPublished.id, order);

  const bad: any = await client.subscribe(query, { types: ['order.**'] }).next();
  assert.equal(bad.errors[0].extensions.code, 'BAD_USER_INPUT');
  assert.match(bad.errors[0].message, /^eventTypes\[0\]: /);
});

test('a key without READ (PUBLISH only) may not subscribe', async () => {
  const t = await tenant();
  const publish = await app.createKey(t.adminKey, ['PUBLISH']);
  const client = await watcher(publish.key);
  const result: any = await client.subscribe(DELIVERY_UPDATED).next();
  assert.equal(result.errors[0].extensions.code, 'FORBIDDEN');
});

test('a client that stops reading is dropped with 1013 and does not stall others', async () => {
  const t = await tenant();
  const sub = await db.subscription(t.tenantId);
  const delivery = await db.delivery(t.tenantId, sub);

  // A raw graphql-transport-ws client whose TCP socket stops reading after subscribing.
  const slow = new WebSocket(app.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
  const slowClosed = new Promise<number>((resolve) => slow.on('close', (code) => resolve(code)));
  await new Promise((r) => slow.once('open', r));
  slow.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.readKey}` } }));
  await new Promise((r) => slow.once('message', r));
  const before = app.app.services!.live.pubsub.subscriberCount;
  slow.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { deliveryUpdated { id lastError } }' } }));
  while (app.app.services!.live.pubsub.subscriberCount === before) await new Promise((r) => setTimeout(r, 5));
  (slow as any)._socket.pause();

  const fast = await subscribed(await watcher(t.readKey), DELIVERY_UPDATED);
  const big = 'x'.repeat(100_000); // every update to the slow client is ~100 KB
  const updates = 300;
  // The fast client may fall behind the changes by up to half its buffer (HOOKGRAPH_LIVE_BUFFER is 20 here), so
  // however slow this machine is, only the client that stopped reading can overflow; it gets all 300 changes
  // queued while it reads none.
  let received = 0;
  const receiveOne = async () => assert.equal((await fast.next(30_000)).deliveryUpdated.attemptCount, ++received);
  for (let n = 1; n <= updates; n++) {
    await db.setStatus(delivery.id, n % 2 ? 'SENDING' : 'RETRYING', n, big);
    while (n - received >= 10) await receiveOne();
  }
  while (received < updates) await receiveOne();

  (slow as any)._socket.resume();
  assert.equal(await slowClosed, 1013);
});

test('completing a subscription or closing the socket releases it on the server', async () => {
  const t = await tenant();
  const pubsub = app.app.services!.live.pubsub;
  const waitFor = async (count: number) => {
    const deadline = Date.now() + 5000;
    while (pubsub.subscriberCount !== count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} subscriptions, have ${pubsub.subscriberCount}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const start = pubsub.subscriberCount;
  const client = wsClient(app.url, t.readKey);
  const one = await subscribed(client, DELIVERY_UPDATED);
  await subscribed(client, 'subscription { eventPublished { id } }');
  await waitFor(start + 2);
  one.dispose();
  await waitFor(start + 1);
  await client.dispose();
  await waitFor(start);
});
