import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, settled, subscription, tenant } from '../helpers/webhooks.js';

// Invariant 10: a PUBLISH-only key reads back what it published, never payloads, deliveries, subscriptions or attempts.
const app = await startTestApp({ label: 'scopes' });
const receiver = await startReceiver();
after(() => receiver.close());

const t = await tenant(app);
await eventType(t, 'order.created');
await subscription(t, { url: receiver.url, eventTypes: ['*'], headers: { authorization: 'Bearer receiver-credential' } });
const publishKey = (await app.createKey(t.key, ['PUBLISH'])).key;
const readKey = (await app.createKey(t.key, ['READ'])).key;
const readPublishKey = (await app.createKey(t.key, ['READ', 'PUBLISH'])).key;

const DEEP = 'id eventType idempotencyKey occurredAt createdAt payload deliveries { nodes { id webhookSubscription { url headers } attempts { responseBody } } }';
const PUBLISH_ONE = `mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { ${DEEP} } userErrors { code } } }`;
// A batch answer is estimated at 100 events: one delivery each keeps it within the query limits.
const PUBLISH_MANY = `mutation($input: EventsPublishInput!) { eventsPublish(input: $input) { events { ${DEEP.replace('deliveries {', 'deliveries(first: 1) {')} } userErrors { code } } }`;

/** The errors of a response as `code path`, sorted. */
function errorsOf(response: { errors?: { path?: (string | number)[]; extensions?: { code?: string } }[] }): string[] {
  return (response.errors ?? []).map((e) => `${e.extensions?.code} ${(e.path ?? []).join('.')}`).sort();
}

function assertPublishedOnly(event: any, eventTypeName: string): void {
  assert.match(event.id, /^[0-9a-f-]{36}$/);
  assert.equal(event.eventType, eventTypeName);
  assert.ok(event.occurredAt && event.createdAt);
  assert.equal(event.payload, null);
  assert.equal(event.deliveries, null);
}

test('a PUBLISH key gets FORBIDDEN on payload and deliveries of eventPublish, fresh and idempotent, and the event is still published', async () => {
  const input = { eventType: 'order.created', payload: { secret: 'original' }, idempotencyKey: 'scopes-one' };
  const fresh = await app.gql(PUBLISH_ONE, { input }, publishKey);
  assert.deepEqual(errorsOf(fresh), ['FORBIDDEN eventPublish.event.deliveries', 'FORBIDDEN eventPublish.event.payload']);
  assert.deepEqual(fresh.data.eventPublish.userErrors, []);
  assertPublishedOnly(fresh.data.eventPublish.event, 'order.created');
  assert.equal(fresh.data.eventPublish.event.idempotencyKey, 'scopes-one');
  const id = fresh.data.eventPublish.event.id;
  await settled(t, id);

  // The re-publish that used to read back the original payload, the subscription's headers and the receiver's answer.
  const again = await app.gql(PUBLISH_ONE, { input: { ...input, payload: { guess: true } } }, publishKey);
  assert.deepEqual(errorsOf(again), ['FORBIDDEN eventPublish.event.deliveries', 'FORBIDDEN eventPublish.event.payload']);
  assertPublishedOnly(again.data.eventPublish.event, 'order.created');
  assert.equal(again.data.eventPublish.event.id, id);
  assert.doesNotMatch(JSON.stringify(again), /original|receiver-credential|127\.0\.0\.1/);

  // The publish committed: a READ key sees the event and its delivery.
  const read = await app.gql('query($id: ID!) { event(id: $id) { payload deliveries { nodes { status } } } }', { id }, readKey);
  assert.deepEqual(read.data.event, { payload: { secret: 'original' }, deliveries: { nodes: [{ status: 'SUCCEEDED' }] } });
});

test('a PUBLISH key gets FORBIDDEN on payload and deliveries of every event of eventsPublish', async () => {
  const events = [
    { eventType: 'order.created', payload: { n: 1 }, idempotencyKey: 'scopes-many-1' },
    { eventType: 'order.created', payload: { n: 2 } },
  ];
  for (const round of ['fresh', 'idempotent']) {
    const result = await app.gql(PUBLISH_MANY, { input: { events: round === 'fresh' ? events : events.slice(0, 1) } }, publishKey);
    const expected = (round === 'fresh' ? [0, 1] : [0]).flatMap((i) => [`FORBIDDEN eventsPublish.events.${i}.deliveries`, `FORBIDDEN eventsPublish.events.${i}.payload`]);
    assert.deepEqual(errorsOf(result), expected.sort(), round);
    for (const event of result.data.eventsPublish.events) assertPublishedOnly(event, 'order.created');
  }
});

test('READ with PUBLISH, and ADMIN, read payloads and deliveries through the publish payloads', async () => {
  for (const key of [readPublishKey, t.key]) {
    const one = await app.gql(PUBLISH_ONE, { input: { eventType: 'order.created', payload: { n: 3 } } }, key);
    assert.equal(one.errors, undefined);
    assert.deepEqual(one.data.eventPublish.event.payload, { n: 3 });
    assert.ok(Array.isArray(one.data.eventPublish.event.deliveries.nodes));
    const many = await app.gql(PUBLISH_MANY, { input: { events: [{ eventType: 'order.created', payload: { n: 4 } }] } }, key);
    assert.equal(many.errors, undefined);
    assert.deepEqual(many.data.eventsPublish.events[0].payload, { n: 4 });
  }
  // A READ-only key still may not publish.
  const refused = await app.gql(PUBLISH_ONE, { input: { eventType: 'order.created', payload: {} } }, readKey);
  assert.deepEqual(errorsOf(refused), ['FORBIDDEN eventPublish']);
});

test('every Event field beyond what was published needs READ (a field added later without the scope fails here)', async () => {
  const PUBLISHED = new Set(['id', 'eventType', 'idempotencyKey', 'occurredAt', 'createdAt']);
  const typeRef = 'kind name ofType { kind name ofType { kind name ofType { kind name } } }';
  const introspected = await app.gql(`{ __type(name: "Event") { fields { name type { ${typeRef} } } } }`, {}, t.key);
  const named = (type: any): any => (type.ofType ? named(type.ofType) : type);
  const fields: { name: string; type: any }[] = introspected.data.__type.fields;
  const selection = fields.map((f) => (['OBJECT', 'INTERFACE', 'UNION'].includes(named(f.type).kind) ? `${f.name} { __typename }` : f.name)).join(' ');
  const result = await app.gql(`mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { ${selection} } } }`, { input: { eventType: 'order.created', payload: {} } }, publishKey);
  const guarded = fields.map((f) => f.name).filter((name) => !PUBLISHED.has(name));
  assert.ok(guarded.includes('payload') && guarded.includes('deliveries'));
  assert.deepEqual(errorsOf(result), guarded.map((name) => `FORBIDDEN eventPublish.event.${name}`).sort());
  for (const name of PUBLISHED) assert.notEqual(result.data.eventPublish.event[name], undefined, name);
});
