import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, publish, subscription, tenant } from '../helpers/webhooks.js';

/*
 * The event schema through the real endpoint: names GraphQL finds odd, names
 * that stay put as event types are added, and changes seen whatever the
 * writing process's clock said.
 */
const app = await startTestApp({ label: 'event-schema-names' });

/** One statement on the test database, as another process would write it. */
async function sql(text: string, values: unknown[]): Promise<void> {
  const client = new pg.Client({ connectionString: app.db.url });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

const SDL = '{ eventSchema { sdl } }';
const UPDATE_TYPE = 'mutation($input: EventTypeUpdateInput!) { eventTypeUpdate(input: $input) { eventType { name } userErrors { field code message } } }';
const ARCHIVE_TYPE = 'mutation($input: EventTypeArchiveInput!) { eventTypeArchive(input: $input) { eventType { name } userErrors { field code message } } }';

async function sdlOf(key: string): Promise<string> {
  const result = await app.gql(SDL, {}, key);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.eventSchema.sdl;
}

test('a property named _ is typed, and a payload query selecting it saves and shapes deliveries', async () => {
  const t = await tenant(app, 'underscore');
  await eventType(t, 'odd.shape', { type: 'object', properties: { _: { type: 'object', properties: { v: { type: 'string' } } }, id: { type: 'string' } } });
  const sdl = await sdlOf(t.key);
  assert.match(sdl, /type OddShape \{\n\s+_: OddShape_\n\s+id: String\n\}/);
  assert.match(sdl, /type OddShape_ \{\n\s+v: String\n\}/);

  const receiver = await startReceiver();
  after(() => receiver.close());
  await subscription(t, { url: receiver.url, eventTypes: ['odd.shape'], payloadQuery: 'subscription { oddShape { _ { v } } }' });
  await publish(t, 'odd.shape', { _: { v: 'x', w: 'y' }, id: '1' });
  const [delivery] = await receiver.waitFor(1);
  assert.deepEqual(JSON.parse(delivery.body).data, { _: { v: 'x' } });
});

test('an event type created later that camel-cases like an existing one takes the suffix; the existing one keeps its names', async () => {
  const t = await tenant(app, 'collisions');
  await eventType(t, 'order.created', { type: 'object', properties: { customer: { type: 'object', properties: { email: { type: 'string' } } } } });
  const before = await sdlOf(t.key);
  assert.match(before, /orderCreated: OrderCreated!/);
  // `order-created` sorts before `order.created`, but came second.
  await eventType(t, 'order-created', { type: 'object', properties: { customer: { type: 'object', properties: { name: { type: 'string' } } } } });
  const sdl = await sdlOf(t.key);
  assert.match(sdl, /"""order\.created events"""\n\s+orderCreated: OrderCreated!/);
  assert.match(sdl, /"""order-created events"""\n\s+orderCreated_2: OrderCreated_2!/);
  assert.match(sdl, /type OrderCreatedCustomer \{\n\s+email: String\n\}/);
  assert.match(sdl, /type OrderCreated_2Customer \{\n\s+name: String\n\}/);
  // Archiving order.created leaves its names reserved; restoring it renames nothing.
  const archive = await app.gql(ARCHIVE_TYPE, { input: { name: 'order.created' } }, t.key);
  assert.deepEqual(archive.data.eventTypeArchive.userErrors, []);
  const archived = await sdlOf(t.key);
  assert.doesNotMatch(archived, /orderCreated:/);
  assert.match(archived, /orderCreated_2: OrderCreated_2!/);
  const restore = await app.gql(UPDATE_TYPE, { input: { name: 'order.created', archived: false } }, t.key);
  assert.deepEqual(restore.data.eventTypeUpdate.userErrors, []);
  assert.equal(await sdlOf(t.key), sdl);
  // A tenant type can no longer take a system type's field.
  await eventType(t, 'hookgraph-delivery.failed', { type: 'object', properties: { x: { type: 'string' } } });
  assert.match(await sdlOf(t.key), /"""hookgraph-delivery\.failed events"""\n\s+hookgraphDeliveryFailed_2: HookgraphDeliveryFailed_2!/);
});

test("a change is seen even when its updated_at is behind the latest one (another process's clock)", async () => {
  const t = await tenant(app, 'clocks');
  await eventType(t, 'clock.a', { type: 'object', properties: { a: { type: 'string' } } });
  await eventType(t, 'clock.b', { type: 'object', properties: { b: { type: 'string' } } });
  // clock.b was last written by a process whose clock runs an hour ahead of this one.
  await sql(`update event_type set updated_at = now() + interval '1 hour' where tenant_id = $1 and name = 'clock.b'`, [t.tenantId]);
  assert.match(await sdlOf(t.key), /type ClockA \{\n\s+a: String\n\}/);

  const update = await app.gql(UPDATE_TYPE, { input: { name: 'clock.a', schema: { type: 'object', properties: { a: { type: 'string' }, added: { type: 'integer' } } } } }, t.key);
  assert.deepEqual(update.data.eventTypeUpdate.userErrors, []);
  assert.match(await sdlOf(t.key), /type ClockA \{\n\s+a: String\n\s+added: Int\n\}/);

  const archive = await app.gql(ARCHIVE_TYPE, { input: { name: 'clock.a' } }, t.key);
  assert.deepEqual(archive.data.eventTypeArchive.userErrors, []);
  const sdl = await sdlOf(t.key);
  assert.doesNotMatch(sdl, /clockA/);
  assert.match(sdl, /clockB: ClockB!/);
});

test("a schema change that moves a later type's names warns about the queries written against them", async () => {
  const t = await tenant(app, 'moved names');
  await eventType(t, 'order', { type: 'object', properties: { id: { type: 'string' } } });
  await eventType(t, 'order.created', { type: 'object', properties: { id: { type: 'string' } } });
  const receiver = await startReceiver();
  after(() => receiver.close());
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.created'], payloadQuery: 'subscription { orderCreated { ...f } } fragment f on OrderCreated { id }' });
  const UPDATE_WARNED = 'mutation($input: EventTypeUpdateInput!) { eventTypeUpdate(input: $input) { warnings { field code message } userErrors { field code message } } }';
  // `order` now has a nested object `created`: its type takes the name OrderCreated, and order.created's becomes OrderCreated_2.
  const schema = { type: 'object', properties: { id: { type: 'string' }, created: { type: 'object', properties: { at: { type: 'string' } } } } };
  const update = (await app.gql(UPDATE_WARNED, { input: { name: 'order', schema } }, t.key)).data.eventTypeUpdate;
  assert.deepEqual(update.userErrors, []);
  assert.match(await sdlOf(t.key), /orderCreated: OrderCreated_2!/);
  assert.deepEqual(update.warnings.map((w: { field: string[]; code: string }) => [w.field, w.code]), [[['input', 'schema'], 'PAYLOAD_QUERY_AFFECTED']]);
  assert.match(update.warnings[0].message, new RegExp(`webhook subscription ${sub.id} no longer matches the event schema`));
  assert.match(update.warnings[0].message, /Fragment "f" cannot be spread here/);
});
