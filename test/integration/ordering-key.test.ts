import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';
import { DELIVERY, eventType, publish, PUBLISH_MANY, settled, subscription, tenant } from '../helpers/webhooks.js';

// Enough quick retries that a key held back for a while still gets through.
const app = await startTestApp({ label: 'ordering-key', env: { HOOKGRAPH_RETRY_SCHEDULE: '0,50ms,100ms,100ms,200ms,200ms,400ms,400ms,800ms,1s,2s,4s' } });
const t = await tenant(app);
await eventType(t, 'order.step');

const FIELDS = 'id ordered orderingKey';
const CREATE = `mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { ${FIELDS} } userErrors { field code message } } }`;
const UPDATE = `mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { webhookSubscription { ${FIELDS} } userErrors { field code message } } }`;
const READ = `query($id: ID!) { webhookSubscription(id: $id) { ${FIELDS} } }`;
const REPLAY = 'mutation($input: WebhookSubscriptionReplayInput!) { webhookSubscriptionReplay(input: $input) { count userErrors { field code message } } }';

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  after(() => r.close());
  return r;
}

async function remove(id: string): Promise<void> {
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id }, t.key);
}

async function subscriptionCount(): Promise<number> {
  return (await app.gql('{ webhookSubscriptions(first: 100) { nodes { id } } }', {}, t.key)).data.webhookSubscriptions.nodes.length;
}

/** `data` of each request, in order of arrival. */
const dataOf = (requests: readonly ReceivedRequest[]) => requests.map((q) => JSON.parse(q.body).data as { orderId?: string; n: number });

test('one key failing holds back only its own later events; other keys and keyless events keep flowing', async () => {
  const r = await receiver();
  const EACH = 3;
  let published!: () => void;
  const publishedNow = new Promise<void>((resolve) => (published = resolve));
  let aFirstFailures = 0;
  const waitingWhileStuck: string[] = [];
  let a2Delivery: string | undefined;
  r.respond(async (request) => {
    const data = JSON.parse(request.body).data;
    if (data.orderId !== 'A' || data.n !== 1) return { status: 200 };
    // A's first event fails at least twice, and until every one of B's events has arrived.
    const bArrived = dataOf(r.requests).filter((d) => d.orderId === 'B').length;
    if (aFirstFailures < 2 || bArrived < EACH) {
      aFirstFailures++;
      await publishedNow;
      // What a user sees meanwhile: A's next delivery waits, PENDING, with no attempt.
      if (a2Delivery) waitingWhileStuck.push((await app.gql(DELIVERY, { id: a2Delivery }, t.key)).data.delivery.status);
      return { status: 500 };
    }
    return { status: 200 };
  });
  const sub = await subscription(t, { url: r.url, eventTypes: ['order.step'], orderingKey: 'data.orderId' });
  const inputs = [];
  for (let n = 1; n <= EACH; n++) {
    inputs.push({ orderId: 'A', n }, { orderId: 'B', n });
    if (n < 3) inputs.push({ n: 100 + n }); // no value at the path: not ordered
  }
  inputs.push({ orderId: null, n: 200 }); // null counts as no value
  const batch = await app.gql(PUBLISH_MANY, { input: { events: inputs.map((payload) => ({ eventType: 'order.step', payload })) } }, t.key);
  assert.deepEqual(batch.data.eventsPublish.userErrors, []);
  const eventIds: string[] = batch.data.eventsPublish.events.map((e: { id: string }) => e.id);
  const a2Event = eventIds[inputs.findIndex((p) => p.orderId === 'A' && p.n === 2)];
  a2Delivery = (await settledOrNot(a2Event)).id;
  published();

  for (const id of eventIds) await settled(t, id, ['SUCCEEDED'], 20_000);
  const arrived = dataOf(r.requests);
  const a = arrived.filter((d) => d.orderId === 'A').map((d) => d.n);
  const b = arrived.filter((d) => d.orderId === 'B').map((d) => d.n);
  // A: its first event until it succeeded, then the later ones in publish order.
  assert.ok(aFirstFailures >= 2);
  assert.deepEqual(a, [...Array(aFirstFailures + 1).fill(1), 2, 3]);
  // B flowed in order while A was stuck: all of it arrived before A's first event got through.
  assert.deepEqual(b, [1, 2, 3]);
  const aSucceededAt = arrived.map((d) => `${d.orderId}${d.n}`).lastIndexOf('A1');
  const lastB = arrived.map((d) => d.orderId).lastIndexOf('B');
  assert.ok(lastB < aSucceededAt, `B's last event (#${lastB}) arrived before A's first succeeded (#${aSucceededAt})`);
  // Events without a value at the path were delivered, once each.
  assert.deepEqual(arrived.filter((d) => d.orderId === undefined || d.orderId === null).map((d) => d.n).sort(), [101, 102, 200]);
  assert.ok(waitingWhileStuck.length > 0 && waitingWhileStuck.every((s) => s === 'PENDING'), `A's second delivery while A was stuck: ${waitingWhileStuck.join(', ')}`);

  // A replay of the range queues each key's deliveries again, in publish order per key.
  const before = r.requests.length;
  const replay = await app.gql(REPLAY, { input: { id: sub.id, since: new Date(Date.now() - 60_000).toISOString() } }, t.key);
  assert.deepEqual(replay.data.webhookSubscriptionReplay.userErrors, []);
  assert.equal(replay.data.webhookSubscriptionReplay.count, inputs.length);
  await r.waitFor(before + inputs.length, 20_000);
  const replayed = dataOf(r.requests.slice(before));
  assert.deepEqual(replayed.filter((d) => d.orderId === 'A').map((d) => d.n), [1, 2, 3]);
  assert.deepEqual(replayed.filter((d) => d.orderId === 'B').map((d) => d.n), [1, 2, 3]);
  await remove(sub.id);
});

/** The delivery of an event to its one subscription, whatever its status. */
async function settledOrNot(eventId: string): Promise<{ id: string; status: string }> {
  const [d] = await settled(t, eventId, ['PENDING', 'SENDING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
  return d;
}

test('the key is read from the shaped body when a payload query shapes it', async () => {
  await eventType(t, 'shaped.step', { type: 'object', properties: { orderId: { type: 'string' }, n: { type: 'integer' }, note: { type: 'string' } } });
  const r = await receiver();
  r.respond((request) => ({ status: JSON.parse(request.body).data.n === 1 && r.requests.filter((q) => JSON.parse(q.body).data.n === 1).length < 3 ? 500 : 200 }));
  const sub = await subscription(t, { url: r.url, eventTypes: ['shaped.step'], orderingKey: 'data.orderId', payloadQuery: 'subscription { shapedStep { orderId n } }' });
  const batch = await app.gql(PUBLISH_MANY, { input: { events: [1, 2, 3].map((n) => ({ eventType: 'shaped.step', payload: { orderId: 'X', n, note: 'dropped' } })) } }, t.key);
  assert.deepEqual(batch.data.eventsPublish.userErrors, []);
  const requests = await r.waitFor(5, 20_000);
  assert.deepEqual(dataOf(requests).map((d) => d.n), [1, 1, 1, 2, 3]);
  assert.deepEqual(Object.keys(JSON.parse(requests[4].body).data).sort(), ['n', 'orderId']);
  await remove(sub.id);
});

test('a bad orderingKey is a userError naming the field and changes nothing', async () => {
  const r = await receiver();
  const count = await subscriptionCount();
  for (const [orderingKey, code] of [
    ['orderId', 'INVALID'],
    ['data..orderId', 'INVALID'],
    ['data.order id', 'INVALID'],
    ['.data', 'INVALID'],
    ['data.' + 'x'.repeat(300), 'TOO_LARGE'],
  ]) {
    const created = await app.gql(CREATE, { input: { url: r.url, eventTypes: ['order.step'], orderingKey } }, t.key);
    assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors.map((e: any) => [e.field, e.code]), [[['input', 'orderingKey'], code]], orderingKey);
    assert.equal(created.data.webhookSubscriptionCreate.webhookSubscription, null);
  }
  // ordered: true already orders every delivery: combining it with a key is refused, on create…
  const both = await app.gql(CREATE, { input: { url: r.url, eventTypes: ['order.step'], ordered: true, orderingKey: 'data.orderId' } }, t.key);
  assert.deepEqual(both.data.webhookSubscriptionCreate.userErrors.map((e: any) => e.field), [['input', 'orderingKey']]);
  assert.match(both.data.webhookSubscriptionCreate.userErrors[0].message, /ordered/);
  assert.equal(await subscriptionCount(), count);

  // …and on update, against what is stored.
  const sub = await subscription(t, { url: r.url, eventTypes: ['order.step'], ordered: true });
  const added = await app.gql(UPDATE, { input: { id: sub.id, orderingKey: 'data.orderId' } }, t.key);
  assert.deepEqual(added.data.webhookSubscriptionUpdate.userErrors.map((e: any) => e.field), [['input', 'orderingKey']]);
  const bad = await app.gql(UPDATE, { input: { id: sub.id, ordered: false, orderingKey: 'data.a..b' } }, t.key);
  assert.deepEqual(bad.data.webhookSubscriptionUpdate.userErrors.map((e: any) => e.field), [['input', 'orderingKey']]);
  assert.deepEqual((await app.gql(READ, { id: sub.id }, t.key)).data.webhookSubscription, { id: sub.id, ordered: true, orderingKey: null });
  // Switching from the whole subscription to per key in one update works; null clears the key.
  const switched = await app.gql(UPDATE, { input: { id: sub.id, ordered: false, orderingKey: ' data.orderId ' } }, t.key);
  assert.deepEqual(switched.data.webhookSubscriptionUpdate.webhookSubscription, { id: sub.id, ordered: false, orderingKey: 'data.orderId' });
  const cleared = await app.gql(UPDATE, { input: { id: sub.id, orderingKey: null } }, t.key);
  assert.deepEqual(cleared.data.webhookSubscriptionUpdate.webhookSubscription, { id: sub.id, ordered: false, orderingKey: null });
  await remove(sub.id);
});

test('ordered: true still sends the whole subscription one at a time, in publish order', async () => {
  const r = await receiver();
  r.replies(500, 500);
  const sub = await subscription(t, { url: r.url, eventTypes: ['order.step'], ordered: true });
  const batch = await app.gql(PUBLISH_MANY, { input: { events: ['A', 'B', 'A', 'B'].map((orderId, i) => ({ eventType: 'order.step', payload: { orderId, n: i + 1 } })) } }, t.key);
  assert.deepEqual(batch.data.eventsPublish.userErrors, []);
  await publish(t, 'order.step', { n: 5 });
  const requests = await r.waitFor(7, 20_000);
  assert.deepEqual(dataOf(requests).map((d) => d.n), [1, 1, 1, 2, 3, 4, 5]);
  assert.equal(r.mostOpen, 1);
  await remove(sub.id);
});
