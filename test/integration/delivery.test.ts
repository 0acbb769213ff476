import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { DELIVERY, eventType, publish, settled, subscription, tenant } from '../helpers/webhooks.js';

// Earlier tests leave subscriptions whose receivers are gone; each later event fails there too, and those
// failures add up across tests. The circuit breaker has its own tests (circuit-breaker.test.ts).
const app = await startTestApp({ label: 'delivery', env: { HOOKGRAPH_CIRCUIT_FAILURES: '1000' } });
const t = await tenant(app);
await eventType(t, 'order.created');
await eventType(t, 'order.paid');

test('a published event reaches the receiver signed, verifiable by the standardwebhooks package', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.*'], headers: { 'x-team': 'billing' } });
  const event = await publish(t, 'order.created', { orderId: 42, total: 12.5 });
  const [request] = await receiver.waitFor(1);
  assert.equal(request.method, 'POST');
  assert.equal(request.headers['content-type'], 'application/json');
  assert.match(String(request.headers['user-agent']), /^hookgraph\/\d+\.\d+\.\d+/);
  assert.equal(request.headers['x-team'], 'billing');
  assert.equal(request.headers['webhook-id'], event.id);
  const verified = new Webhook(sub.secret).verify(request.body, request.headers as Record<string, string>) as any;
  assert.deepEqual(verified.data, { orderId: 42, total: 12.5 });
  assert.equal(verified.id, event.id);
  assert.equal(verified.type, 'order.created');
  assert.deepEqual(Object.keys(JSON.parse(request.body)), ['id', 'type', 'timestamp', 'data']);

  const [delivery] = await settled(t, event.id);
  assert.equal(delivery.status, 'SUCCEEDED');
  const full = (await app.gql(DELIVERY, { id: delivery.id }, t.key)).data.delivery;
  assert.equal(full.attemptCount, 1);
  assert.equal(full.webhookSubscription.id, sub.id);
  assert.equal(full.attempts.length, 1);
  assert.equal(full.attempts[0].responseStatus, 200);
  assert.equal(full.attempts[0].responseBody, 'ok');
  assert.equal(full.attempts[0].requestHeaders['webhook-id'], event.id);
  assert.equal(full.attempts[0].errorKind, null);
});

test('500 → 500 → 200: retried with the same webhook-id and byte-identical body, attempts recorded', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  receiver.replies(500, { status: 500, body: 'x'.repeat(10_000) }, 200);
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.paid'] });
  const event = await publish(t, 'order.paid', { orderId: 7 });
  const requests = await receiver.waitFor(3);
  assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1);
  assert.equal(new Set(requests.map((r) => r.body)).size, 1);
  for (const r of requests) new Webhook(sub.secret).verify(r.body, r.headers as Record<string, string>);
  const [delivery] = await settled(t, event.id);
  const full = (await app.gql(DELIVERY, { id: delivery.id }, t.key)).data.delivery;
  assert.equal(full.status, 'SUCCEEDED');
  assert.equal(full.attemptCount, 3);
  assert.deepEqual(full.attempts.map((a: any) => a.responseStatus), [500, 500, 200]);
  assert.deepEqual(full.attempts.map((a: any) => a.errorKind), ['HTTP_STATUS', 'HTTP_STATUS', null]);
  assert.equal(full.attempts[1].responseBody.length, 4096, 'response bodies are kept up to 4 KiB');
});

test('FAILED after the last attempt of the schedule', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  receiver.respond(() => ({ status: 503 }));
  await subscription(t, { url: receiver.url, eventTypes: ['order.created'], description: 'always failing' });
  const event = await publish(t, 'order.created', { n: 1 });
  const deliveries = await settled(t, event.id);
  const failing = deliveries.find((d) => d.lastResponseStatus === 503)!;
  assert.equal(failing.status, 'FAILED');
  assert.equal(failing.attemptCount, 3, 'the test schedule has three attempts');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(receiver.requests.length, 3, 'no attempt after FAILED');
});

test('deliveries(filter) narrows by subscription, event, status and creation time', async () => {
  const receiver = await startReceiver();
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.paid'] });
  const before = new Date(Date.now() - 1000);
  const event = await publish(t, 'order.paid', { orderId: 7 });
  await settled(t, event.id);
  const query = 'query($filter: DeliveryFilter) { deliveries(first: 10, filter: $filter) { nodes { id event { id } } } }';
  const ids = async (filter: Record<string, unknown>) => (await app.gql(query, { filter }, t.key)).data.deliveries.nodes.map((d: any) => d.event.id);
  assert.deepEqual(await ids({ webhookSubscriptionId: sub.id }), [event.id]);
  // (The first test's `order.*` subscription gets the event too, to a receiver that is gone by now.)
  assert.deepEqual(await ids({ webhookSubscriptionId: sub.id, eventId: event.id, statuses: ['SUCCEEDED'] }), [event.id]);
  assert.deepEqual(await ids({ webhookSubscriptionId: sub.id, eventId: event.id, statuses: ['FAILED'] }), []);
  assert.deepEqual(await ids({ webhookSubscriptionId: sub.id, createdSince: before.toISOString() }), [event.id]);
  assert.deepEqual(await ids({ webhookSubscriptionId: sub.id, createdSince: new Date(Date.now() + 60_000).toISOString() }), []);
});

test('a receiver named by host name is resolved at send time by the process resolver: localhost is loopback (c-ares alone does not know it)', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  await eventType(t, 'order.named');
  await subscription(t, { url: `http://localhost:${receiver.port}/hook?named`, eventTypes: ['order.named'] });
  const event = await publish(t, 'order.named', { orderId: 1 });
  const [request] = await receiver.waitFor(1);
  assert.equal(request.path, '/hook?named');
  const [delivery] = await settled(t, event.id);
  assert.equal(delivery.status, 'SUCCEEDED');
});
