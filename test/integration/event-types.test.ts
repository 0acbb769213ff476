import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { errorCode } from '../helpers/graphql.js';
import { createEventType } from '../../src/api/management/event-types.js';
import { eventually, subscription, tenant } from '../helpers/webhooks.js';

const FIELDS = 'id name description schema archived archivedAt createdAt updatedAt';
const CREATE = `mutation($input: EventTypeCreateInput!) { eventTypeCreate(input: $input) { eventType { ${FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation($input: EventTypeUpdateInput!) { eventTypeUpdate(input: $input) { eventType { ${FIELDS} } userErrors { field message code } } }`;
const ARCHIVE = `mutation($input: EventTypeArchiveInput!) { eventTypeArchive(input: $input) { eventType { ${FIELDS} } userErrors { field message code } } }`;
const LIST = `query($first: Int, $after: String, $includeArchived: Boolean) { eventTypes(first: $first, after: $after, includeArchived: $includeArchived) { edges { cursor node { name archived } } nodes { name } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
const ONE = `query($name: String!) { eventType(name: $name) { ${FIELDS} } }`;

const app: TestApp = await startTestApp({ label: 'event_types' });
const admin = (await app.createTenant('A')).adminKey;
const other = (await app.createTenant('B')).adminKey;

const create = (input: Record<string, unknown>, key = admin) => app.gql(CREATE, { input }, key).then((r) => r.data!.eventTypeCreate);

test('create, read, update and archive an event type', async () => {
  const schema = { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } };
  const created = await create({ name: 'order.created', description: ' New order ', schema });
  assert.deepEqual(created.userErrors, []);
  assert.equal(created.eventType.name, 'order.created');
  assert.equal(created.eventType.description, 'New order');
  assert.deepEqual(created.eventType.schema, schema);
  assert.equal(created.eventType.archived, false);

  const read = await app.gql(ONE, { name: 'order.created' }, admin);
  assert.equal(read.data.eventType.id, created.eventType.id);

  const updated = (await app.gql(UPDATE, { input: { name: 'order.created', description: 'Changed', schema: null } }, admin)).data.eventTypeUpdate;
  assert.deepEqual(updated.userErrors, []);
  assert.equal(updated.eventType.description, 'Changed');
  assert.equal(updated.eventType.schema, null);

  const archived = (await app.gql(ARCHIVE, { input: { name: 'order.created' } }, admin)).data.eventTypeArchive;
  assert.equal(archived.eventType.archived, true);
  assert.ok(archived.eventType.archivedAt);
  const again = (await app.gql(ARCHIVE, { input: { name: 'order.created' } }, admin)).data.eventTypeArchive;
  assert.equal(again.eventType.archivedAt, archived.eventType.archivedAt, 'archiving twice keeps the first time');

  const listed = await app.gql(LIST, {}, admin);
  assert.ok(!listed.data.eventTypes.nodes.some((n: { name: string }) => n.name === 'order.created'), 'archived types are hidden by default');
  const all = await app.gql(LIST, { includeArchived: true }, admin);
  assert.ok(all.data.eventTypes.nodes.some((n: { name: string }) => n.name === 'order.created'));
  assert.equal((await app.gql(ONE, { name: 'order.created' }, admin)).data.eventType.archived, true, 'archived types still read by name');

  const restored = (await app.gql(UPDATE, { input: { name: 'order.created', archived: false } }, admin)).data.eventTypeUpdate;
  assert.equal(restored.eventType.archived, false);
});

test('each userError code of event types', async () => {
  const cases: [Record<string, unknown>, string, string[]][] = [
    [{ name: '' }, 'REQUIRED', ['input', 'name']],
    [{ name: 'Order.Created' }, 'INVALID_EVENT_TYPE_NAME', ['input', 'name']],
    [{ name: 'order.*' }, 'INVALID_EVENT_TYPE_NAME', ['input', 'name']],
    [{ name: 'a.b', schema: { type: 'nope' } }, 'INVALID_SCHEMA', ['input', 'schema', 'type']],
    [{ name: 'a.b', schema: { $ref: 'https://example.com/s.json' } }, 'INVALID_SCHEMA', ['input', 'schema', '$ref']],
    [{ name: 'a.b', schema: [1] }, 'INVALID_SCHEMA', ['input', 'schema']],
    [{ name: 'a.b', description: 'x'.repeat(1001) }, 'TOO_LARGE', ['input', 'description']],
  ];
  for (const [input, code, field] of cases) {
    const result = await create(input);
    assert.equal(result.eventType, null, JSON.stringify(input));
    assert.equal(result.userErrors[0].code, code, JSON.stringify(input));
    assert.deepEqual(result.userErrors[0].field, field, JSON.stringify(input));
  }
  assert.equal((await app.gql(ONE, { name: 'a.b' }, admin)).data.eventType, null, 'nothing was created');

  assert.deepEqual((await create({ name: 'user.signed_up' })).userErrors, []);
  const taken = await create({ name: 'user.signed_up' });
  assert.equal(taken.userErrors[0].code, 'TAKEN');
  const missing = (await app.gql(UPDATE, { input: { name: 'no.such.type', description: 'x' } }, admin)).data.eventTypeUpdate;
  assert.equal(missing.userErrors[0].code, 'NOT_FOUND');
  const badSchema = (await app.gql(UPDATE, { input: { name: 'user.signed_up', schema: { minimum: 'x' } } }, admin)).data.eventTypeUpdate;
  assert.equal(badSchema.userErrors[0].code, 'INVALID_SCHEMA');
  assert.equal((await app.gql(ARCHIVE, { input: { name: 'nope' } }, admin)).data.eventTypeArchive.userErrors[0].code, 'NOT_FOUND');
});

test('paginates over more than one page with stable cursors', async () => {
  const { adminKey } = await app.createTenant('pages');
  for (let i = 0; i < 7; i++) assert.deepEqual((await create({ name: `page.t${i}` }, adminKey)).userErrors, []);
  const seen: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const result: any = await app.gql(LIST, { first: 3, after }, adminKey);
    const connection = result.data.eventTypes;
    seen.push(...connection.nodes.map((n: { name: string }) => n.name));
    pages++;
    if (pages === 1) {
      // An insert between pages does not shift the next page.
      assert.deepEqual((await create({ name: 'page.late' }, adminKey)).userErrors, []);
    }
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  // hookgraph's own types come after the tenant's.
  assert.equal(pages, 4);
  assert.deepEqual(seen, [
    'page.t6', 'page.t5', 'page.t4', 'page.t3', 'page.t2', 'page.t1', 'page.t0',
    'hookgraph.delivery.failed', 'hookgraph.subscription.disabled', 'hookgraph.subscription.circuit_closed', 'hookgraph.subscription.circuit_opened',
  ]);
  assert.equal(errorCode(await app.gql(LIST, { after: 'garbage' }, adminKey)), 'BAD_USER_INPUT');
  assert.equal(errorCode(await app.gql(LIST, { first: 1000 }, adminKey)), 'BAD_USER_INPUT');
});

test('another tenant sees none of it and cannot change it', async () => {
  assert.deepEqual((await create({ name: 'secret.thing', description: 'mine' })).userErrors, []);
  assert.equal((await app.gql(ONE, { name: 'secret.thing' }, other)).data.eventType, null);
  const list = await app.gql(LIST, { includeArchived: true }, other);
  assert.ok(!list.data.eventTypes.nodes.some((n: { name: string }) => n.name === 'secret.thing'));
  assert.equal((await app.gql(UPDATE, { input: { name: 'secret.thing', description: 'theirs' } }, other)).data.eventTypeUpdate.userErrors[0].code, 'NOT_FOUND');
  assert.equal((await app.gql(ARCHIVE, { input: { name: 'secret.thing' } }, other)).data.eventTypeArchive.userErrors[0].code, 'NOT_FOUND');
  // The same name is free in the other tenant.
  assert.deepEqual((await create({ name: 'secret.thing' }, other)).userErrors, []);
  const mine = (await app.gql(ONE, { name: 'secret.thing' }, admin)).data.eventType;
  assert.equal(mine.description, 'mine');
  assert.equal(mine.archived, false);
});

test('scopes: READ and ADMIN read, only ADMIN writes', async () => {
  const read = (await app.createKey(admin, ['READ'])).key;
  const publish = (await app.createKey(admin, ['PUBLISH'])).key;
  const operations: [string, string, Record<string, unknown>, boolean][] = [
    ['eventTypes', LIST, {}, false],
    ['eventType', ONE, { name: 'order.created' }, false],
    ['eventTypeCreate', CREATE, { input: { name: 'scope.check' } }, true],
    ['eventTypeUpdate', UPDATE, { input: { name: 'order.created' } }, true],
    ['eventTypeArchive', ARCHIVE, { input: { name: 'scope.none' } }, true],
  ];
  for (const [name, query, variables, mutation] of operations) {
    assert.equal(errorCode(await app.gql(query, variables)), 'UNAUTHENTICATED', `${name} without key`);
    assert.equal(errorCode(await app.gql(query, variables, app.rootKey)), 'FORBIDDEN', `${name} with root key`);
    assert.equal(errorCode(await app.gql(query, variables, publish)), 'FORBIDDEN', `${name} with PUBLISH`);
    assert.equal(errorCode(await app.gql(query, variables, read)), mutation ? 'FORBIDDEN' : undefined, `${name} with READ`);
    assert.equal(errorCode(await app.gql(query, variables, admin)), undefined, `${name} with ADMIN`);
  }
});

test("created_at comes from the database's clock, not the writing process's", async (t) => {
  const { tenantId } = await app.createTenant('Clocks');
  const { rows: [{ before }] } = await app.app.pool.query('select clock_timestamp() as before');
  // This process's clock reads 2001: a type it creates still sorts after the ones the database saw created before.
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2001, 0, 1) });
  let created;
  try {
    created = await createEventType(app.app.services!.db, tenantId, { name: 'clock.checked' });
  } finally {
    t.mock.timers.reset();
  }
  const { rows: [row] } = await app.app.pool.query(
    `select created_at as "createdAt", created_at between date_trunc('milliseconds', $2::timestamptz) and clock_timestamp() as "byDatabase"
       from event_type where tenant_id = $1 and name = 'clock.checked'`,
    [tenantId, before],
  );
  assert.equal(row.byDatabase, true, `created_at ${row.createdAt}, the database's clock read ${before} before`);
  assert.equal(created.createdAt.toISOString(), new Date(row.createdAt).toISOString(), 'the entity answered holds what the row does');
});

test('two concurrent changes of one event type: the second compares against what the first committed', async () => {
  const t = await tenant(app, 'Concurrent changes');
  const withNote = { type: 'object', properties: { orderId: { type: 'string' }, note: { type: 'string' } } };
  const withoutNote = { type: 'object', properties: { orderId: { type: 'string' } } };
  assert.deepEqual((await create({ name: 'order.created', schema: withNote }, t.key)).userErrors, []);
  const sub = await subscription(t, { url: 'http://127.0.0.1:9/hook', eventTypes: ['order.created'], payloadQuery: 'subscription { orderCreated { note } }' });
  const CHANGE = 'mutation($input: EventTypeUpdateInput!) { eventTypeUpdate(input: $input) { warnings { code message } userErrors { code } } }';
  // The row is held by another transaction until both changes are waiting, so both start before either commits.
  const holder = new pg.Client({ connectionString: app.db.url });
  await holder.connect();
  try {
    await holder.query('begin');
    await holder.query('select 1 from event_type where tenant_id = $1 and name = $2 for update', [t.tenantId, 'order.created']);
    const changes = [1, 2].map(() => app.gql(CHANGE, { input: { name: 'order.created', schema: withoutNote } }, t.key));
    await eventually(
      // Read outside the holding transaction (which would see one snapshot of pg_stat_activity).
      async () => (await app.app.pool.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0].n >= 2,
      10_000,
      'both changes to wait for the row',
    );
    await holder.query('commit');
    const results = await Promise.all(changes);
    for (const r of results) assert.deepEqual(r.data!.eventTypeUpdate.userErrors, []);
    // Only the change that removed `note` broke the query; the other found it gone already.
    const warned = results.flatMap((r) => r.data!.eventTypeUpdate.warnings);
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.equal(warned[0].code, 'PAYLOAD_QUERY_AFFECTED');
    assert.match(warned[0].message, new RegExp(sub.id));
  } finally {
    await holder.end();
  }
});
