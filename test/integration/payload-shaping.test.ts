import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { PAYLOAD_PLAN_JSON_ROOTS_SQL } from '../../src/db/migrations/Migration20261202033000_payload_plan_json_roots.js';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, publish, settled, subscription, tenant } from '../helpers/webhooks.js';

/*
 * Payload queries through the real endpoint: the event schema, shaped
 * deliveries as receivers get them, userErrors that change nothing, the
 * dry run, and warnings when an event type's schema changes under a query.
 */
const app = await startTestApp({ label: 'payload-shaping' });
const t = await tenant(app);

const ORDER_SCHEMA = {
  type: 'object',
  description: 'An order was placed.',
  required: ['orderId', 'total'],
  properties: {
    orderId: { type: 'string', description: 'The order.' },
    total: { type: 'number' },
    note: { type: 'string' },
    customer: { type: 'object', properties: { email: { type: 'string' }, name: { type: 'string' } } },
    lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
  },
};
await eventType(t, 'order.created', ORDER_SCHEMA);
await eventType(t, 'order.paid', { type: 'object', properties: { orderId: { type: 'string' }, amount: { type: 'number' } } });
await eventType(t, 'user.signed_up');

const ORDER = { orderId: 'o-1', total: 42.5, note: 'leave at the door', customer: { email: 'a@b.c', name: 'Ada' }, lines: [{ sku: 'x', qty: 2 }, { sku: 'y', qty: 1 }] };
const SHAPE = 'subscription { orderCreated { orderId total customer { email } lines { sku } } }';

const UPDATE = `mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) {
  webhookSubscription { id payloadQuery } userErrors { field code message } } }`;
const CREATE = `mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) {
  webhookSubscription { id payloadQuery } userErrors { field code message } } }`;
const RETRY = 'mutation($id: ID!) { deliveryRetry(input: {id: $id}) { delivery { id status } userErrors { field code message } } }';
const COUNT = '{ webhookSubscriptions(first: 100) { nodes { id } } }';
const PREVIEW = 'mutation($input: WebhookSubscriptionPreviewInput!) { webhookSubscriptionPreview(input: $input) { matches reason body userErrors { field code message } } }';

test('eventSchema types every event type from its JSON Schema, descriptions included', async () => {
  const result = await app.gql('{ eventSchema { sdl } }', {}, t.key);
  const sdl: string = result.data.eventSchema.sdl;
  assert.match(sdl, /type Subscription \{/);
  assert.match(sdl, /"""An order was placed\."""\s*\n\s*type OrderCreated \{/);
  assert.match(sdl, /orderId: String!/);
  assert.match(sdl, /total: Float!/);
  assert.match(sdl, /customer: OrderCreatedCustomer\n/);
  assert.match(sdl, /lines: \[OrderCreatedLines!\]/);
  assert.match(sdl, /qty: Int/);
  assert.match(sdl, /orderPaid: OrderPaid!/);
  // No schema: the payload is JSON.
  assert.match(sdl, /userSignedUp: JSON!/);
  assert.match(sdl, /"""user\.signed_up events"""\s*\n\s*userSignedUp/);
});

test('a shaped delivery carries exactly the selected fields, verifies, and its retry is byte-identical after the query changed', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  // One attempt only: the delivery is FAILED before the query changes, and its retry is asked for after.
  receiver.respond((_request, index) => ({ status: index === 0 ? 500 : 200 }));
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.*'], payloadQuery: SHAPE, retrySchedule: ['0'] });
  const event = await publish(t, 'order.created', ORDER);
  const [first] = await receiver.waitFor(1);
  const verified = new Webhook(sub.secret).verify(first.body, first.headers as Record<string, string>) as any;
  assert.equal(verified.id, event.id);
  assert.equal(verified.type, 'order.created');
  assert.deepEqual(verified.data, { orderId: 'o-1', total: 42.5, customer: { email: 'a@b.c' }, lines: [{ sku: 'x' }, { sku: 'y' }] });
  assert.equal(first.body.indexOf('note'), -1);
  const [failed] = await settled(t, event.id);
  assert.equal(failed.status, 'FAILED');

  const update = await app.gql(UPDATE, { input: { id: sub.id, payloadQuery: 'subscription { orderCreated { note } }' } }, t.key);
  assert.deepEqual(update.data.webhookSubscriptionUpdate.userErrors, []);
  const retried = await app.gql(RETRY, { id: failed.id }, t.key);
  assert.deepEqual(retried.data.deliveryRetry.userErrors, []);
  const [, retry] = await receiver.waitFor(2);
  assert.equal(retry.body, first.body);
  assert.equal(retry.headers['webhook-id'], first.headers['webhook-id']);
  const reverified = new Webhook(sub.secret).verify(retry.body, retry.headers as Record<string, string>) as any;
  assert.deepEqual(reverified.data, verified.data);
  const [succeeded] = await settled(t, event.id, ['SUCCEEDED']);
  assert.equal(succeeded.attemptCount, 2);

  // New events follow the new query; event types it does not name are delivered whole.
  const next = await publish(t, 'order.created', ORDER);
  const paid = await publish(t, 'order.paid', { orderId: 'o-1', amount: 42.5 });
  const received = await receiver.waitFor(4);
  const bodies = new Map(received.slice(2).map((r) => [JSON.parse(r.body).id, JSON.parse(r.body).data]));
  assert.deepEqual(bodies.get(next.id), { note: 'leave at the door' });
  assert.deepEqual(bodies.get(paid.id), { orderId: 'o-1', amount: 42.5 });
});

test('aliases, fragments and directives shape as GraphQL would answer; missing values are null', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const query = `subscription Created { orderCreated { id: orderId ...Who lines { sku @skip(if: true) qty } __typename } }
    fragment Who on OrderCreated { customer { name } note }`;
  await subscription(t, { url: receiver.url, eventTypes: ['order.created'], payloadQuery: query });
  await publish(t, 'order.created', { orderId: 'o-2', total: 1, lines: [{ sku: 'z', qty: 3 }] });
  const [request] = await receiver.waitFor(1);
  assert.equal(JSON.stringify(JSON.parse(request.body).data), '{"id":"o-2","customer":null,"note":null,"lines":[{"qty":3}],"__typename":"OrderCreated"}');
});

test('an invalid query, an event type the subscription does not receive, and an oversized query are userErrors that change nothing', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const cases: [string, RegExp][] = [
    ['subscription { orderCreated { nope } }', /Cannot query field "nope" on type "OrderCreated"/],
    ['subscription { orderCreated { orderId }', /Syntax Error/],
    ['subscription { orderPaid { orderId } }', /"orderPaid" \(order\.paid\), which this subscription's eventTypes do not match/],
    ['query { eventTypes }', /subscription operations only/],
    [`subscription { orderCreated { ${Array.from({ length: 600 }, (_, i) => `a${i}: orderId`).join(' ')} } }`, /more than 500 fields/],
    [`subscription { orderCreated { orderId } } # ${'x'.repeat(17_000)}`, /longer than 16384 bytes/],
    // A selection @skip leaves empty would deliver `{}`.
    ['subscription { orderCreated { orderId @skip(if: true) } }', /selects no field of orderCreated: @skip or @include leaves out every field there/],
    ['subscription { orderCreated { orderId customer { email @include(if: false) } } }', /selects no field of orderCreated\.customer/],
  ];
  const stored = async () => (await app.gql(COUNT, {}, t.key)).data.webhookSubscriptions.nodes.map((n: { id: string }) => n.id);
  const before = await stored();
  for (const [payloadQuery, message] of cases) {
    const result = await app.gql(CREATE, { input: { url: receiver.url, eventTypes: ['order.created'], payloadQuery } }, t.key);
    const payload = result.data.webhookSubscriptionCreate;
    assert.equal(payload.webhookSubscription, null, payloadQuery.slice(0, 60));
    assert.deepEqual(payload.userErrors.map((e: any) => [e.field, e.code]), [[['input', 'payloadQuery'], 'INVALID_PAYLOAD_QUERY']]);
    assert.match(payload.userErrors[0].message, message);
  }
  assert.deepEqual(await stored(), before, 'no subscription was stored');
  // On update: the stored query stays as it was.
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.created'], payloadQuery: SHAPE });
  const bad = await app.gql(UPDATE, { input: { id: sub.id, payloadQuery: 'subscription { orderCreated { nope } }', url: receiver.url + '?moved' } }, t.key);
  assert.equal(bad.data.webhookSubscriptionUpdate.userErrors[0].code, 'INVALID_PAYLOAD_QUERY');
  // Narrowing the patterns under a stored query that needs them is refused too.
  const narrowed = await app.gql(UPDATE, { input: { id: sub.id, eventTypes: ['order.paid'] } }, t.key);
  assert.deepEqual(narrowed.data.webhookSubscriptionUpdate.userErrors.map((e: any) => e.field), [['input', 'payloadQuery']]);
  const read = await app.gql('query($id: ID!) { webhookSubscription(id: $id) { url eventTypes payloadQuery } }', { id: sub.id }, t.key);
  assert.deepEqual(read.data.webhookSubscription, { url: receiver.url, eventTypes: ['order.created'], payloadQuery: SHAPE });
  // Null clears it.
  const cleared = await app.gql(UPDATE, { input: { id: sub.id, payloadQuery: null } }, t.key);
  assert.equal(cleared.data.webhookSubscriptionUpdate.webhookSubscription.payloadQuery, null);
});

test('the preview gives the filter verdict and the body that is then delivered', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['order.created'], payloadQuery: SHAPE, filter: { 'data.total': { $gte: 10 } } });
  const preview = (await app.gql(PREVIEW, { input: { id: sub.id, eventType: 'order.created', payload: ORDER } }, t.key)).data.webhookSubscriptionPreview;
  assert.deepEqual(preview.userErrors, []);
  assert.equal(preview.matches, true);
  const small = (await app.gql(PREVIEW, { input: { id: sub.id, eventType: 'order.created', payload: { ...ORDER, total: 1 } } }, t.key)).data.webhookSubscriptionPreview;
  assert.equal(small.matches, false);
  assert.equal(small.reason, 'The filter does not match the event.');
  const other = (await app.gql(PREVIEW, { input: { id: sub.id, eventType: 'order.paid', payload: {} } }, t.key)).data.webhookSubscriptionPreview;
  assert.equal(other.matches, false);
  assert.match(other.reason, /eventTypes \(order\.created\) do not match "order\.paid"/);
  // Patterns given with the id take the saved ones' place, as the form being edited has them.
  const widened = (await app.gql(PREVIEW, { input: { id: sub.id, eventTypes: ['order.*'], eventType: 'order.paid', payload: { total: 20 } } }, t.key)).data.webhookSubscriptionPreview;
  assert.deepEqual([widened.matches, widened.reason, widened.userErrors], [true, null, []]);

  await publish(t, 'order.created', ORDER);
  const [delivered] = await receiver.waitFor(1);
  const sent = JSON.parse(delivered.body);
  const previewed = JSON.parse(preview.body);
  assert.equal(delivered.body.slice(delivered.body.indexOf('"data":')), preview.body.slice(preview.body.indexOf('"data":')));
  assert.deepEqual(Object.keys(previewed), Object.keys(sent));

  // A query and filter given inline, without a subscription; a bad one is a userError.
  const inline = (await app.gql(PREVIEW, { input: { eventType: 'order.created', payload: ORDER, payloadQuery: 'subscription { orderCreated { total } }' } }, t.key)).data.webhookSubscriptionPreview;
  assert.deepEqual(JSON.parse(inline.body).data, { total: 42.5 });
  const invalid = (await app.gql(PREVIEW, { input: { eventType: 'order.created', payload: ORDER, filter: { 'data.total': { $nope: 1 } } } }, t.key)).data.webhookSubscriptionPreview;
  assert.equal(invalid.userErrors[0].field[1], 'filter');
  assert.equal(invalid.body, null);
  assert.equal(invalid.matches, false);
  // What publish refuses is a userError here too: an unknown or archived event type, a payload its schema refuses, patterns that are not.
  await eventType(t, 'order.legacy');
  await app.gql('mutation { eventTypeArchive(input: {name: "order.legacy"}) { userErrors { message } } }', {}, t.key);
  const refused: [Record<string, unknown>, string[], string][] = [
    [{ eventType: 'order.unknown', payload: ORDER }, ['input', 'eventType'], 'NOT_FOUND'],
    [{ eventType: 'order.legacy', payload: ORDER }, ['input', 'eventType'], 'ARCHIVED'],
    [{ eventType: 'order.created', payload: { ...ORDER, total: 'lots' } }, ['input', 'payload', 'total'], 'SCHEMA_MISMATCH'],
    [{ eventType: 'order.created', payload: ORDER, eventTypes: ['Order!'] }, ['input', 'eventTypes', '0'], 'INVALID_PATTERN'],
    [{ eventType: 'order.created', payload: ORDER, payloadQuery: 'subscription { orderCreated { orderId @skip(if: true) } }' }, ['input', 'payloadQuery'], 'INVALID_PAYLOAD_QUERY'],
  ];
  for (const [input, field, code] of refused) {
    const result = (await app.gql(PREVIEW, { input }, t.key)).data.webhookSubscriptionPreview;
    assert.deepEqual(result.userErrors.map((e: any) => [e.field, e.code]), [[field, code]], JSON.stringify(input).slice(0, 80));
    assert.deepEqual([result.matches, result.body], [false, null]);
  }
  // A subscription that is not ENABLED is sent nothing: no match, the body still shown.
  await app.gql(UPDATE, { input: { id: sub.id, status: 'DISABLED' } }, t.key);
  const disabled = (await app.gql(PREVIEW, { input: { id: sub.id, eventType: 'order.created', payload: ORDER } }, t.key)).data.webhookSubscriptionPreview;
  assert.equal(disabled.matches, false);
  assert.match(disabled.reason, /The subscription is DISABLED/);
  assert.deepEqual(JSON.parse(disabled.body).data, previewed.data);
  // A malformed or unknown id is not found, like another tenant's.
  for (const id of ['not-a-uuid', '0190b5a0-0000-7000-8000-000000000000']) {
    const missing = (await app.gql(PREVIEW, { input: { id, eventType: 'order.created', payload: ORDER } }, t.key)).data.webhookSubscriptionPreview;
    assert.deepEqual(missing.userErrors.map((e: any) => [e.field, e.code]), [[['input', 'id'], 'NOT_FOUND']]);
  }
});

test("renaming a field a saved query selects warns, and the query keeps working with null for what is gone", async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const tt = await tenant(app, 'Renames');
  await eventType(tt, 'invoice.sent', { type: 'object', properties: { invoiceId: { type: 'string' }, amount: { type: 'number' } } });
  const sub = await subscription(tt, { url: receiver.url, eventTypes: ['invoice.*'], payloadQuery: 'subscription { invoiceSent { invoiceId amount } }' });
  const result = await app.gql(
    'mutation($input: EventTypeUpdateInput!) { eventTypeUpdate(input: $input) { eventType { name } warnings { field code message } userErrors { field code message } } }',
    { input: { name: 'invoice.sent', schema: { type: 'object', properties: { invoiceId: { type: 'string' }, total: { type: 'number' } } } } },
    tt.key,
  );
  const payload = result.data.eventTypeUpdate;
  assert.deepEqual(payload.userErrors, []);
  assert.equal(payload.warnings.length, 1);
  assert.equal(payload.warnings[0].code, 'PAYLOAD_QUERY_AFFECTED');
  assert.deepEqual(payload.warnings[0].field, ['input', 'schema']);
  assert.match(payload.warnings[0].message, new RegExp(sub.id));
  assert.match(payload.warnings[0].message, /Cannot query field "amount"/);
  await publish(tt, 'invoice.sent', { invoiceId: 'i-1', total: 9 });
  const [request] = await receiver.waitFor(1);
  assert.deepEqual(JSON.parse(request.body).data, { invoiceId: 'i-1', amount: null });
});

test('a root field typed JSON (no schema) delivers the whole payload, and the preview shows the same', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const query = 'subscription { userSignedUp }';
  const sub = await subscription(t, { url: receiver.url, eventTypes: ['user.*'], payloadQuery: query });
  const payload = { userId: 'u-1', plan: { tier: 'pro' }, tags: ['a', 'b'] };
  const event = await publish(t, 'user.signed_up', payload);
  const [request] = await receiver.waitFor(1);
  const body = new Webhook(sub.secret).verify(request.body, request.headers as Record<string, string>) as any;
  assert.equal(body.id, event.id);
  assert.deepEqual(body.data, payload);
  for (const input of [{ id: sub.id }, { payloadQuery: query }]) {
    const preview = (await app.gql(PREVIEW, { input: { ...input, eventType: 'user.signed_up', payload } }, t.key)).data.webhookSubscriptionPreview;
    assert.deepEqual(preview.userErrors, []);
    assert.deepEqual(JSON.parse(preview.body).data, payload);
    assert.equal(preview.body.slice(preview.body.indexOf('"data":')), request.body.slice(request.body.indexOf('"data":')));
  }
});

test('archiving an event type warns about the queries selecting it; later unrelated changes do not repeat that warning', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const tt = await tenant(app, 'Archives');
  await eventType(tt, 'ticket.opened', { type: 'object', properties: { ticketId: { type: 'string' } } });
  await eventType(tt, 'ticket.closed', { type: 'object', properties: { ticketId: { type: 'string' } } });
  const opened = await subscription(tt, { url: receiver.url, eventTypes: ['ticket.*'], payloadQuery: 'subscription { ticketOpened { ticketId } }' });
  await subscription(tt, { url: receiver.url, eventTypes: ['ticket.*'], payloadQuery: 'subscription { ticketClosed { ticketId } }' });
  const FIELDS = 'eventType { name archived } warnings { field code message } userErrors { field code message }';
  const archived = (await app.gql(`mutation($input: EventTypeArchiveInput!) { eventTypeArchive(input: $input) { ${FIELDS} } }`, { input: { name: 'ticket.opened' } }, tt.key)).data.eventTypeArchive;
  assert.deepEqual(archived.userErrors, []);
  assert.equal(archived.eventType.archived, true);
  assert.deepEqual(archived.warnings.map((w: any) => [w.field, w.code]), [[['input', 'name'], 'PAYLOAD_QUERY_AFFECTED']]);
  assert.match(archived.warnings[0].message, new RegExp(opened.id));
  assert.match(archived.warnings[0].message, /Cannot query field "ticketOpened"/);

  // The other type's schema grows: no query loses anything, and the archive's warning is not said again.
  const UPDATE_TYPE = `mutation($input: EventTypeUpdateInput!) { eventTypeUpdate(input: $input) { ${FIELDS} } }`;
  const grown = { type: 'object', properties: { ticketId: { type: 'string' }, reason: { type: 'string' } } };
  const unrelated = (await app.gql(UPDATE_TYPE, { input: { name: 'ticket.closed', schema: grown } }, tt.key)).data.eventTypeUpdate;
  assert.deepEqual(unrelated.userErrors, []);
  assert.deepEqual(unrelated.warnings, []);
  // Archiving again (already archived) and restoring break nothing new either.
  assert.deepEqual((await app.gql(UPDATE_TYPE, { input: { name: 'ticket.opened', archived: true } }, tt.key)).data.eventTypeUpdate.warnings, []);
  assert.deepEqual((await app.gql(UPDATE_TYPE, { input: { name: 'ticket.opened', archived: false } }, tt.key)).data.eventTypeUpdate.warnings, []);
  // Archived through eventTypeUpdate, the warning names that field.
  const viaUpdate = (await app.gql(UPDATE_TYPE, { input: { name: 'ticket.closed', archived: true } }, tt.key)).data.eventTypeUpdate;
  assert.deepEqual(viaUpdate.warnings.map((w: any) => w.field), [['input', 'archived']]);
});

test('a plan stored with the empty projection for a JSON root field delivers the whole payload once migrated; other entries stay', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  // A tenant of its own: nothing published yet, so its subscriptions are first read after the migration.
  const tt = await tenant(app, 'Stored plans');
  await eventType(tt, 'user.signed_up');
  await eventType(tt, 'order.created', { type: 'object', properties: { orderId: { type: 'string' }, note: { type: 'string' } } });
  const query = 'subscription A { userSignedUp } subscription B { orderCreated { orderId } }';
  const sub = await subscription(tt, { url: receiver.url, eventTypes: ['*'], payloadQuery: query });
  // As plans were stored before a JSON root field was null.
  const legacy = { 'user.signed_up': [], 'order.created': [{ key: 'orderId', field: 'orderId' }] };
  await app.app.pool.query('update webhook_subscription set payload_plan = $1 where id = $2', [JSON.stringify(legacy), sub.id]);
  await app.app.pool.query(PAYLOAD_PLAN_JSON_ROOTS_SQL);
  const { rows } = await app.app.pool.query('select payload_plan as plan from webhook_subscription where id = $1', [sub.id]);
  assert.deepEqual(rows[0].plan, { 'user.signed_up': null, 'order.created': legacy['order.created'] });
  await publish(tt, 'user.signed_up', { userId: 'u-2' });
  await publish(tt, 'order.created', { orderId: 'o-3', note: 'n' });
  const received = await receiver.waitFor(2);
  const byType = new Map(received.map((r) => [JSON.parse(r.body).type, JSON.parse(r.body).data]));
  assert.deepEqual(byType.get('user.signed_up'), { userId: 'u-2' });
  assert.deepEqual(byType.get('order.created'), { orderId: 'o-3' });
});
