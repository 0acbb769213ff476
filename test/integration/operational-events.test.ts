import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startTestApp } from '../helpers/app.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';
import { eventType, eventually, publish, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

/*
 * hookgraph's own events about a tenant's webhook health, delivered to the
 * tenant's `hookgraph.*` subscriptions through the real endpoint and worker
 * (server schedule: 3 attempts, see TEST_ENV).
 */
const app = await startTestApp({ label: 'operational-events' });

const SUBSCRIPTION = 'query($id: ID!) { webhookSubscription(id: $id) { id status disabledReason } }';
const DELIVERIES = 'query($id: ID!) { deliveries(first: 50, filter: {webhookSubscriptionId: $id}) { nodes { id status attemptCount event { id eventType } } } }';

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  after(() => r.close());
  return r;
}

const typeOf = (request: ReceivedRequest) => JSON.parse(request.body).type as string;

async function statusOf(t: Tenant, id: string): Promise<string> {
  return (await app.gql(SUBSCRIPTION, { id }, t.key)).data.webhookSubscription.status;
}

async function deliveriesTo(t: Tenant, id: string): Promise<{ id: string; status: string; attemptCount: number; event: { id: string; eventType: string } }[]> {
  const result = await app.gql(DELIVERIES, { id }, t.key);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data.deliveries.nodes;
}

test('eventTypes lists the system types with system: true; they cannot be created, changed, archived or published', async () => {
  const t = await tenant(app, 'catalog');
  await eventType(t, 'order.created');
  const list = await app.gql('{ eventTypes(first: 100) { nodes { name system archived schema } } }', {}, t.key);
  const nodes: { name: string; system: boolean; schema: any }[] = list.data.eventTypes.nodes;
  const system = nodes.filter((n) => n.system).map((n) => n.name);
  assert.deepEqual(system.sort(), ['hookgraph.delivery.failed', 'hookgraph.subscription.circuit_closed', 'hookgraph.subscription.circuit_opened', 'hookgraph.subscription.disabled']);
  assert.equal(nodes.find((n) => n.name === 'order.created')?.system, false);
  // The tenant's own types first (newest first), hookgraph's after them.
  assert.equal(nodes[0].name, 'order.created');
  assert.ok(nodes.find((n) => n.name === 'hookgraph.subscription.disabled')!.schema.properties.webhookSubscriptionId);

  // Paged one at a time, every type comes exactly once.
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = await app.gql('query($after: String) { eventTypes(first: 1, after: $after) { nodes { name } pageInfo { hasNextPage endCursor } } }', { after }, t.key);
    seen.push(...page.data.eventTypes.nodes.map((n: { name: string }) => n.name));
    if (!page.data.eventTypes.pageInfo.hasNextPage) break;
    after = page.data.eventTypes.pageInfo.endCursor;
  }
  assert.deepEqual(seen, nodes.map((n) => n.name));

  const one = await app.gql('{ eventType(name: "hookgraph.delivery.failed") { name system archived } }', {}, t.key);
  assert.deepEqual(one.data.eventType, { name: 'hookgraph.delivery.failed', system: true, archived: false });

  const sdl = (await app.gql('{ eventSchema { sdl } }', {}, t.key)).data.eventSchema.sdl as string;
  assert.match(sdl, /hookgraphSubscriptionDisabled: HookgraphSubscriptionDisabled/);
  assert.match(sdl, /hookgraphDeliveryFailed: HookgraphDeliveryFailed/);

  for (const [mutation, name] of [
    ['mutation { eventTypeCreate(input: {name: "hookgraph.mine"}) { eventType { name } userErrors { field code message } } }', 'eventTypeCreate'],
    ['mutation { eventTypeCreate(input: {name: "hookgraph.delivery.failed"}) { eventType { name } userErrors { field code message } } }', 'eventTypeCreate'],
    ['mutation { eventTypeUpdate(input: {name: "hookgraph.delivery.failed", description: "mine"}) { eventType { name } userErrors { field code message } } }', 'eventTypeUpdate'],
    ['mutation { eventTypeArchive(input: {name: "hookgraph.subscription.disabled"}) { eventType { name } userErrors { field code message } } }', 'eventTypeArchive'],
  ] as const) {
    const result = await app.gql(mutation, {}, t.key);
    const payload = result.data[name];
    assert.equal(payload.eventType, null, mutation);
    assert.deepEqual(payload.userErrors.map((e: any) => [e.field, e.code]), [[['input', 'name'], 'RESERVED_NAME']], mutation);
    assert.match(payload.userErrors[0].message, /hookgraph/);
  }
  const after2 = await app.gql('{ eventTypes(first: 100) { nodes { name description } } }', {}, t.key);
  assert.equal(after2.data.eventTypes.nodes.filter((n: any) => n.name.startsWith('hookgraph.')).length, 4);
  assert.notEqual(after2.data.eventTypes.nodes.find((n: any) => n.name === 'hookgraph.delivery.failed').description, 'mine');

  const published = await app.gql(
    'mutation { eventPublish(input: {eventType: "hookgraph.delivery.failed", payload: {deliveryId: "x"}}) { event { id } userErrors { field code message } } }',
    {},
    t.key,
  );
  assert.equal(published.data.eventPublish.event, null);
  assert.deepEqual(published.data.eventPublish.userErrors.map((e: any) => [e.field, e.code]), [[['input', 'eventType'], 'RESERVED_NAME']]);

  // A hookgraph.* pattern matches types, so it draws no "matches nothing yet" warning.
  const watcher = await receiver();
  const created = await app.gql(
    'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id } warnings { code } userErrors { message } } }',
    { input: { url: watcher.url, eventTypes: ['hookgraph.*'] } },
    t.key,
  );
  assert.deepEqual(created.data.webhookSubscriptionCreate.warnings, []);
});

test('a 410 disables a subscription: hookgraph.subscription.disabled arrives signed at the hookgraph.* subscription, not at the * one', async () => {
  const t = await tenant(app, 'gone');
  await eventType(t, 'order.created');
  const [watching, everything, gone] = [await receiver(), await receiver(), await receiver()];
  gone.replies(410);
  const watcher = await subscription(t, { url: watching.url, eventTypes: ['hookgraph.*'] });
  await subscription(t, { url: everything.url, eventTypes: ['*'], ordered: true });
  const target = await subscription(t, { url: gone.url, eventTypes: ['order.created'] });

  const event = await publish(t, 'order.created', { orderId: 'o-1' });
  const [request] = await watching.waitFor(1, 15_000);
  const verified = new Webhook(watcher.secret).verify(request.body, request.headers as Record<string, string>) as any;
  assert.equal(verified.type, 'hookgraph.subscription.disabled');
  const [goneDelivery] = (await deliveriesTo(t, target.id)).filter((d) => d.event.id === event.id);
  assert.deepEqual(verified.data, {
    webhookSubscriptionId: target.id,
    url: gone.url,
    status: 'DISABLED',
    reason: 'GONE',
    deliveryId: goneDelivery.id,
    eventId: event.id,
  });
  assert.equal(request.headers['webhook-id'], verified.id);
  assert.equal(await statusOf(t, target.id), 'DISABLED');
  // Committed with the change it reports: the operational event is an event of the tenant like any other.
  const stored = await app.gql('query($id: ID!) { event(id: $id) { eventType payload } }', { id: verified.id }, t.key);
  assert.equal(stored.data.event.eventType, 'hookgraph.subscription.disabled');

  // `*` got the order event and, after it, a marker, but never the operational event (ordered: in publish order).
  await eventType(t, 'marker.ping');
  await publish(t, 'marker.ping', { n: 1 });
  await eventually(async () => everything.requests.some((r) => typeOf(r) === 'marker.ping'), 15_000, 'the marker at the * subscription');
  assert.deepEqual(everything.requests.map(typeOf), ['order.created', 'marker.ping']);
  assert.equal(watching.requests.length, 1);
  await settled(t, event.id);
});

test('hookgraph.delivery.failed arrives when a delivery uses up its schedule', async () => {
  const t = await tenant(app, 'failed');
  await eventType(t, 'order.created');
  const [watching, failing] = [await receiver(), await receiver()];
  failing.respond(() => ({ status: 500, body: 'down' }));
  const watcher = await subscription(t, { url: watching.url, eventTypes: ['hookgraph.delivery.*'] });
  const shaping = await receiver();
  await subscription(t, { url: shaping.url, eventTypes: ['hookgraph.delivery.failed'], payloadQuery: 'subscription { hookgraphDeliveryFailed { deliveryId attemptCount } }' });
  const target = await subscription(t, { url: failing.url, eventTypes: ['order.created'] });

  const event = await publish(t, 'order.created', { orderId: 'o-2' });
  const [request] = await watching.waitFor(1, 15_000);
  const verified = new Webhook(watcher.secret).verify(request.body, request.headers as Record<string, string>) as any;
  assert.equal(verified.type, 'hookgraph.delivery.failed');
  const [delivery] = await settled(t, event.id);
  assert.equal(delivery.status, 'FAILED');
  assert.equal(failing.requests.length, 3);
  assert.deepEqual(verified.data, {
    webhookSubscriptionId: target.id,
    url: failing.url,
    deliveryId: delivery.id,
    eventId: event.id,
    eventType: 'order.created',
    attemptCount: 3,
    lastResponseStatus: 500,
    lastError: delivery.lastError,
  });
  // The subscription is still enabled (one failed delivery is not a 410), so no disabled event.
  assert.equal(await statusOf(t, target.id), 'ENABLED');
  assert.equal(watching.requests.length, 1);
  // Fanned out like any event: a payload query over the event schema shapes it.
  const [shapedRequest] = await shaping.waitFor(1, 15_000);
  assert.deepEqual(JSON.parse(shapedRequest.body).data, { deliveryId: delivery.id, attemptCount: 3 });
});

test('deliveries of operational events raise no operational events themselves', async () => {
  const t = await tenant(app, 'no loops');
  await eventType(t, 'order.created');
  await eventType(t, 'marker.ping');
  const [observing, failingWatcher, goneWatcher, gone] = [await receiver(), await receiver(), await receiver(), await receiver()];
  failingWatcher.respond(() => ({ status: 500 }));
  goneWatcher.replies(410);
  gone.replies(410);
  // Ordered: the observer gets its deliveries in publish order, so the marker arriving means nothing earlier is on the way.
  const observer = await subscription(t, { url: observing.url, eventTypes: ['hookgraph.*', 'marker.ping'], ordered: true });
  const failingSub = await subscription(t, { url: failingWatcher.url, eventTypes: ['hookgraph.*'] });
  const goneSub = await subscription(t, { url: goneWatcher.url, eventTypes: ['hookgraph.*'] });
  const target = await subscription(t, { url: gone.url, eventTypes: ['order.created'] });

  await publish(t, 'order.created', { orderId: 'o-3' });
  const [first] = await observing.waitFor(1, 15_000);
  new Webhook(observer.secret).verify(first.body, first.headers as Record<string, string>);
  assert.equal(typeOf(first), 'hookgraph.subscription.disabled');
  assert.equal(JSON.parse(first.body).data.webhookSubscriptionId, target.id);

  // The watchers' own deliveries of that event: one used up its schedule, the other was answered 410.
  await eventually(async () => (await deliveriesTo(t, failingSub.id)).every((d) => d.status === 'FAILED') && (await deliveriesTo(t, failingSub.id)).length === 1, 15_000, "the failing watcher's delivery to fail");
  await eventually(async () => (await statusOf(t, goneSub.id)) === 'DISABLED', 15_000, 'the gone watcher to be disabled');
  assert.equal(failingWatcher.requests.length, 3);
  assert.deepEqual(failingWatcher.requests.map(typeOf), ['hookgraph.subscription.disabled', 'hookgraph.subscription.disabled', 'hookgraph.subscription.disabled']);
  assert.deepEqual(goneWatcher.requests.map(typeOf), ['hookgraph.subscription.disabled']);

  // Settle point: a marker published after both, behind anything they could have raised.
  await publish(t, 'marker.ping', { n: 1 });
  await eventually(async () => observing.requests.some((r) => typeOf(r) === 'marker.ping'), 15_000, 'the marker');
  assert.deepEqual(observing.requests.map(typeOf), ['hookgraph.subscription.disabled', 'marker.ping']);
  assert.equal(failingWatcher.requests.length, 3);
  assert.equal(goneWatcher.requests.length, 1);
  // Nor were any stored: the tenant has exactly one operational event.
  const events = await app.gql('{ events(first: 50) { nodes { eventType } } }', {}, t.key);
  assert.deepEqual(events.data.events.nodes.map((e: any) => e.eventType).sort(), ['hookgraph.subscription.disabled', 'marker.ping', 'order.created']);
});

test("operational events stay in their tenant", async () => {
  const [a, b] = [await tenant(app, 'tenant a'), await tenant(app, 'tenant b')];
  await eventType(a, 'order.created');
  const [watchingB, gone] = [await receiver(), await receiver()];
  gone.replies(410);
  const watchingA = await receiver();
  await subscription(a, { url: watchingA.url, eventTypes: ['hookgraph.*'] });
  await subscription(b, { url: watchingB.url, eventTypes: ['hookgraph.*'] });
  const target = await subscription(a, { url: gone.url, eventTypes: ['order.created'] });
  await publish(a, 'order.created', { orderId: 'o-4' });
  await watchingA.waitFor(1, 15_000);
  assert.equal(await statusOf(a, target.id), 'DISABLED');
  assert.equal(watchingB.requests.length, 0);
});

test('FAILING_DISABLED raises hookgraph.subscription.disabled with the delivery that tipped it', async () => {
  // A second hookgraph whose failure window is short enough to run out within one delivery's schedule.
  const failingApp = await startTestApp({ label: 'operational-failing', env: { HOOKGRAPH_DISABLE_AFTER: '150ms', HOOKGRAPH_RETRY_SCHEDULE: '0,200ms,200ms' } });
  after(() => failingApp.stop());
  const t = await tenant(failingApp, 'failing');
  await eventType(t, 'order.created');
  const [watching, failing] = [await receiver(), await receiver()];
  failing.respond(() => ({ status: 500 }));
  const watcher = await subscription(t, { url: watching.url, eventTypes: ['hookgraph.subscription.*'] });
  const target = await subscription(t, { url: failing.url, eventTypes: ['order.created'] });
  const event = await publish(t, 'order.created', { orderId: 'o-5' });
  const [request] = await watching.waitFor(1, 15_000);
  const verified = new Webhook(watcher.secret).verify(request.body, request.headers as Record<string, string>) as any;
  assert.equal(verified.type, 'hookgraph.subscription.disabled');
  const { data } = verified;
  assert.deepEqual({ ...data, deliveryId: undefined }, { webhookSubscriptionId: target.id, url: failing.url, status: 'FAILING_DISABLED', reason: 'FAILING', eventId: event.id, deliveryId: undefined });
  const status = (await failingApp.gql(SUBSCRIPTION, { id: target.id }, t.key)).data.webhookSubscription.status;
  assert.equal(status, 'FAILING_DISABLED');
  const [delivery] = (await failingApp.gql(DELIVERIES, { id: target.id }, t.key)).data.deliveries.nodes;
  assert.equal(data.deliveryId, delivery.id);
});
