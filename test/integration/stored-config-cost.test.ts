import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, PUBLISH, PUBLISH_MANY, subscription, tenant } from '../helpers/webhooks.js';

/**
 * Invariant 9 for stored configuration: a JSON Schema or a filter a tenant
 * saved cannot make the api slow for others. Each hostile request is started
 * first, then a plain request of another tenant; both must complete, the
 * hostile one accepted cheaply or refused.
 */
const app = await startTestApp({ label: 'stored_cost' });
const receiver = await startReceiver();
after(() => receiver.close());
const bystander = await tenant(app, 'Bystander');
await eventType(bystander, 'ping');

const CREATE_TYPE = 'mutation($input: EventTypeCreateInput!) { eventTypeCreate(input: $input) { eventType { name } userErrors { field code message } } }';
const CREATE_SUB = 'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id } userErrors { field code message } } }';

/** The bystander's publish, sent while `hostile` is in flight; returns both answers. */
async function alongside<T>(hostile: Promise<T>): Promise<[T, string]> {
  const other = app.gql(PUBLISH, { input: { eventType: 'ping', payload: { n: 1 } } }, bystander.key);
  const [h, o] = await Promise.all([hostile, other]);
  assert.deepEqual(o.data.eventPublish.userErrors, [], 'the other tenant was answered');
  return [h, o.data.eventPublish.event.id];
}

async function eventCount(tenantId: string): Promise<number> {
  const { rows } = await app.app.pool.query('select count(*)::int as n from event where tenant_id = $1', [tenantId]);
  return rows[0].n;
}

test('a schema with one big definition referenced 500 times is accepted (refs are not inlined)', async () => {
  const t = await tenant(app);
  const properties = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, { type: 'string' }]));
  const refs = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`r${i}`, { $ref: '#/definitions/d' }]));
  const schema = { definitions: { d: { type: 'object', properties } }, type: 'object', properties: refs };
  assert.ok(JSON.stringify(schema).length > 21_000);
  const [created] = await alongside(app.gql(CREATE_TYPE, { input: { name: 'wide.refs', schema } }, t.key));
  assert.deepEqual(created.data.eventTypeCreate.userErrors, []);
  // And it validates: r7 must be an object of strings.
  const bad = await app.gql(PUBLISH, { input: { eventType: 'wide.refs', payload: { r7: { p3: 5 } } } }, t.key);
  assert.equal(bad.data.eventPublish.userErrors[0].code, 'SCHEMA_MISMATCH');
  assert.deepEqual(bad.data.eventPublish.userErrors[0].field, ['input', 'payload', 'r7', 'p3']);
});

test('uniqueItems on a 40,000-item array is checked in linear time, duplicates still refused', async () => {
  const t = await tenant(app);
  await eventType(t, 'set.of', { type: 'array', uniqueItems: true });
  const items = Array.from({ length: 40_000 }, (_, i) => i);
  const [published] = await alongside(app.gql(PUBLISH, { input: { eventType: 'set.of', payload: items } }, t.key));
  assert.deepEqual(published.data.eventPublish.userErrors, []);
  // Equal objects with their keys in another order are duplicates.
  const dup = await app.gql(PUBLISH, { input: { eventType: 'set.of', payload: [{ a: 1, b: [2] }, 3, { b: [2], a: 1 }] } }, t.key);
  assert.equal(dup.data.eventPublish.userErrors[0].code, 'SCHEMA_MISMATCH');
  assert.match(dup.data.eventPublish.userErrors[0].message, /duplicate items \(items ## 0 and 2/);
});

test('schemas applying too many subschemas to one value, or looping, are refused when saved, naming the place', async () => {
  const t = await tenant(app);
  const branches = Array.from({ length: 100 }, (_, i) => ({ type: 'object', required: [`x${i}`] }));
  const definitions: Record<string, unknown> = { d20: { type: 'string' } };
  // Each level doubles: 2^20 checks of one value without the limit.
  for (let i = 0; i < 20; i++) definitions[`d${i}`] = { anyOf: [{ $ref: `#/definitions/d${i + 1}` }, { $ref: `#/definitions/d${i + 1}` }] };
  const cases: [unknown, string[]][] = [
    [{ type: 'array', items: { anyOf: branches } }, ['input', 'schema', 'items']],
    [{ definitions, $ref: '#/definitions/d0' }, ['input', 'schema', 'definitions', 'd15']],
    [{ anyOf: [{ $ref: '#' }] }, ['input', 'schema']],
    [{ properties: { a: { $id: 'other', type: 'string' } } }, ['input', 'schema', 'properties', 'a', '$id']],
    [{ type: 'object', properties: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`p${i}`, { type: 'string' }])) }, ['input', 'schema']],
  ];
  for (const [schema, field] of cases) {
    const [result] = await alongside(app.gql(CREATE_TYPE, { input: { name: 'hostile.schema', schema } }, t.key));
    const payload = result.data.eventTypeCreate;
    assert.equal(payload.eventType, null);
    assert.equal(payload.userErrors[0].code, 'INVALID_SCHEMA');
    assert.deepEqual(payload.userErrors[0].field, field, payload.userErrors[0].message);
  }
  // A recursive schema that descends into the payload is fine.
  const tree = { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } } };
  assert.deepEqual((await app.gql(CREATE_TYPE, { input: { name: 'tree', schema: tree } }, t.key)).data.eventTypeCreate.userErrors, []);
  const nested = { name: 'a', children: [{ name: 'b', children: [{ name: 'c', children: [] }] }] };
  assert.deepEqual((await app.gql(PUBLISH, { input: { eventType: 'tree', payload: nested } }, t.key)).data.eventPublish.userErrors, []);
});

test('a hostile schema stored before these limits is never run: publishing to it is refused', async () => {
  const t = await tenant(app);
  const definitions: Record<string, unknown> = { d20: { type: 'string' } };
  for (let i = 0; i < 20; i++) definitions[`d${i}`] = { anyOf: [{ $ref: `#/definitions/d${i + 1}` }, { $ref: `#/definitions/d${i + 1}` }] };
  // Written as an older version would have saved it, past today's checks.
  await app.app.pool.query(
    `insert into event_type (id, tenant_id, name, schema, created_at, updated_at) values (gen_random_uuid(), $1, 'legacy.schema', $2, now(), now())`,
    [t.tenantId, JSON.stringify({ definitions, type: 'array', items: { $ref: '#/definitions/d0' } })],
  );
  const [result] = await alongside(app.gql(PUBLISH, { input: { eventType: 'legacy.schema', payload: new Array(1000).fill(0) } }, t.key));
  const error = result.data.eventPublish.userErrors[0];
  assert.equal(error.code, 'SCHEMA_MISMATCH');
  assert.deepEqual(error.field, ['input', 'payload']);
  assert.match(error.message, /saved before the current limits.*definitions\/d15.*update the schema/);
  assert.equal(await eventCount(t.tenantId), 0);
});

test('validation over the call budget is refused at the event where it ran out, and nothing is written', async () => {
  const t = await tenant(app);
  // 40 branches: 164 units per array item, so two events of 30,000 items are over budget, one is not.
  const branches = Array.from({ length: 40 }, (_, i) => ({ type: 'object', required: [`x${i}`] }));
  await eventType(t, 'many.branches', { type: 'array', items: { anyOf: [...branches, { type: 'number' }] } });
  const events = [
    { eventType: 'many.branches', payload: new Array(30_000).fill(1) },
    { eventType: 'many.branches', payload: new Array(30_000).fill(0) },
  ];
  const [result] = await alongside(app.gql(PUBLISH_MANY, { input: { events } }, t.key));
  const payload = result.data.eventsPublish;
  assert.equal(payload.events, null);
  assert.deepEqual(payload.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code]), [[['input', 'events', '1'], 'TOO_LARGE']]);
  assert.equal(await eventCount(t.tenantId), 0);
  // The same events one per call fit.
  for (const event of events) assert.deepEqual((await app.gql(PUBLISH, { input: event }, t.key)).data.eventPublish.userErrors, []);
});

test('filter matching over the call budget is refused at the event where it ran out, and nothing is written', async () => {
  const t = await tenant(app);
  await eventType(t, 'bag');
  // 256 literals tried against each of 40,000 values: over budget for one event.
  await subscription(t, { url: receiver.url, eventTypes: ['bag'], filter: { 'data.items': { $in: Array.from({ length: 256 }, (_, i) => `s${i}`) } } });
  const events = [
    { eventType: 'bag', payload: { items: ['s1'] } },
    { eventType: 'bag', payload: { items: new Array(40_000).fill(0) } },
  ];
  const [result] = await alongside(app.gql(PUBLISH_MANY, { input: { events } }, t.key));
  const payload = result.data.eventsPublish;
  assert.equal(payload.events, null);
  assert.deepEqual(payload.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code]), [[['input', 'events', '1'], 'TOO_LARGE']]);
  assert.equal(await eventCount(t.tenantId), 0, 'the events inserted before matching were rolled back');
  assert.deepEqual((await app.gql(PUBLISH, { input: events[0] }, t.key)).data.eventPublish.userErrors, []);
});

test('a filter takes at most 16 $regex operators', async () => {
  const t = await tenant(app);
  const filter = { $or: Array.from({ length: 17 }, (_, i) => ({ [`data.f${i}`]: { $regex: `^x${i}` } })) };
  const result = (await app.gql(CREATE_SUB, { input: { url: receiver.url, eventTypes: ['*'], filter } }, t.key)).data.webhookSubscriptionCreate;
  assert.equal(result.webhookSubscription, null);
  assert.equal(result.userErrors[0].code, 'INVALID_FILTER');
  assert.deepEqual(result.userErrors[0].field, ['input', 'filter', '$or', '16', 'data.f16', '$regex']);
  filter.$or.pop();
  assert.deepEqual((await app.gql(CREATE_SUB, { input: { url: receiver.url, eventTypes: ['*'], filter } }, t.key)).data.webhookSubscriptionCreate.userErrors, []);
});

test('payload queries whose fragments double at every level, or that nest past what the parser follows, are refused with a userError', async () => {
  const t = await tenant(app);
  await eventType(t, 'order.created', { type: 'object', properties: { orderId: { type: 'string' } } });
  const reader = await app.createKey(t.key, ['READ']);
  // 2^levels fields per spread once expanded; 17 levels overflowed the stack while expanding.
  const doubling = (levels: number) => {
    const fragments = ['fragment F0 on OrderCreated { orderId }'];
    for (let i = 1; i <= levels; i++) fragments.push(`fragment F${i} on OrderCreated { ...F${i - 1} ...F${i - 1} }`);
    return `subscription { orderCreated { ${Array(400).fill(`...F${levels}`).join(' ')} } } ${fragments.join(' ')}`;
  };
  const deep = `subscription { orderCreated ${'{ x '.repeat(1500)}${'}'.repeat(1500)} }`;
  const cases: [string, RegExp][] = [
    [doubling(16), /more than 500 fields/],
    [doubling(17), /more than 500 fields/],
    [deep, /nests braces and brackets deeper than 128 levels/],
  ];
  const PREVIEW = 'mutation($input: WebhookSubscriptionPreviewInput!) { webhookSubscriptionPreview(input: $input) { matches body userErrors { field code message } } }';
  for (const [payloadQuery, message] of cases) {
    assert.ok(Buffer.byteLength(payloadQuery) < 16 * 1024);
    const [preview] = await alongside(app.gql(PREVIEW, { input: { eventType: 'order.created', payload: { orderId: 'o' }, payloadQuery } }, reader.key));
    assert.equal(preview.errors, undefined, JSON.stringify(preview.errors));
    const previewed = preview.data.webhookSubscriptionPreview;
    assert.deepEqual(previewed.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code]), [[['input', 'payloadQuery'], 'INVALID_PAYLOAD_QUERY']]);
    assert.match(previewed.userErrors[0].message, message);
    const [created] = await alongside(app.gql(CREATE_SUB, { input: { url: receiver.url, eventTypes: ['order.*'], payloadQuery } }, t.key));
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    assert.equal(created.data.webhookSubscriptionCreate.webhookSubscription, null);
    assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors[0].field, ['input', 'payloadQuery']);
    assert.match(created.data.webhookSubscriptionCreate.userErrors[0].message, message);
  }
  // The api still answers, and a plain query is still accepted.
  const plain = await app.gql(CREATE_SUB, { input: { url: receiver.url, eventTypes: ['order.*'], payloadQuery: 'subscription { orderCreated { orderId } }' } }, t.key);
  assert.deepEqual(plain.data.webhookSubscriptionCreate.userErrors, []);
});

test('a payload query that would make data larger than a payload may be is refused, by the preview and at publish, and nothing is written', async () => {
  const t = await tenant(app);
  await eventType(t, 'order.tagged', { type: 'object', properties: { tags: { type: 'array', items: { type: 'object', properties: { t: { type: 'string' } } } } } });
  const reader = await app.createKey(t.key, ['READ']);
  // Ten 1,500-character aliases for every element: a 6 KB payload shaped into some 30 MB.
  const payloadQuery = `subscription { orderTagged { tags { ${Array.from({ length: 10 }, (_, i) => `${'a'.repeat(1500)}${i}: t`).join(' ')} } } }`;
  const payload = { tags: Array.from({ length: 2000 }, () => ({})) };
  const PREVIEW = 'mutation($input: WebhookSubscriptionPreviewInput!) { webhookSubscriptionPreview(input: $input) { matches body userErrors { field code message } } }';
  const [preview] = await alongside(app.gql(PREVIEW, { input: { eventType: 'order.tagged', payload, payloadQuery } }, reader.key));
  assert.equal(preview.errors, undefined, JSON.stringify(preview.errors));
  assert.deepEqual(preview.data.webhookSubscriptionPreview.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code]), [[['input', 'payloadQuery'], 'TOO_LARGE']]);
  assert.equal(preview.data.webhookSubscriptionPreview.body, null);
  // Where publish would make no delivery (the filter does not match), the verdict is given, not the size refusal.
  const unmatched = await app.gql(PREVIEW, { input: { eventType: 'order.tagged', payload, payloadQuery, filter: { 'data.missing': { $exists: true } } } }, reader.key);
  assert.equal(unmatched.errors, undefined, JSON.stringify(unmatched.errors));
  assert.deepEqual(unmatched.data.webhookSubscriptionPreview, { matches: false, body: null, userErrors: [] });

  const created = await app.gql(CREATE_SUB, { input: { url: receiver.url, eventTypes: ['order.tagged'], payloadQuery } }, t.key);
  assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors, []);
  const [published] = await alongside(app.gql(PUBLISH, { input: { eventType: 'order.tagged', payload } }, t.key));
  assert.equal(published.errors, undefined, JSON.stringify(published.errors));
  assert.deepEqual(published.data.eventPublish.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code]), [[['input', 'payload'], 'TOO_LARGE']]);
  assert.match(published.data.eventPublish.userErrors[0].message, new RegExp(`payload query of webhook subscription ${created.data.webhookSubscriptionCreate.webhookSubscription.id} makes this event's data larger than \\d+ bytes`));
  assert.equal(await eventCount(t.tenantId), 0);

  // A payload it shapes to a reasonable size is published and delivered shaped.
  const small = await app.gql(PUBLISH, { input: { eventType: 'order.tagged', payload: { tags: [{ t: 'x' }] } } }, t.key);
  assert.deepEqual(small.data.eventPublish.userErrors, []);
  assert.equal(await eventCount(t.tenantId), 1);
});
