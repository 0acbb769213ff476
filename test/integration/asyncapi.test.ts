import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, publish, subscription, tenant } from '../helpers/webhooks.js';

const app = await startTestApp({ label: 'asyncapi' });
const t = await tenant(app, 'Catalog tenant');
const other = await tenant(app, 'Other tenant');

const orderSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['orderId', 'customer', 'items'],
  properties: {
    orderId: { type: 'integer' },
    customer: { type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' }, address: { type: 'object', properties: { city: { type: 'string' } } } } },
    items: { type: 'array', items: { $ref: '#/definitions/item' } },
  },
  definitions: { item: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } } } },
};
await eventType(t, 'billing.invoice.paid', orderSchema);
await eventType(t, 'user.signed-up');
await eventType(t, 'user.deleted', true);
await eventType(t, 'ping', { type: 'string' });
await eventType(t, 'order.retired');
await t.app.gql('mutation { eventTypeArchive(input: {name: "order.retired"}) { eventType { archived } } }', {}, t.key);
await eventType(other, 'secret.plans');

const catalog = (key?: string) => fetch(`${app.url}/asyncapi.json`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

// A real delivery to compare with the catalog's description of it.
const receiver = await startReceiver();
after(() => receiver.close());
await subscription(t, { url: receiver.url, eventTypes: ['billing.*'] });
const payload = { orderId: 7, customer: { email: 'a@example.com', address: { city: 'Lyon' } }, items: [{ sku: 'X-1', quantity: 2 }] };
await publish(t, 'billing.invoice.paid', payload);
const [delivered] = await receiver.waitFor(1);

// Parsing blocks the event loop for seconds, after which the in-process server may
// drop an idle keep-alive socket just as fetch reuses it: every request comes first.
test('the catalog needs a tenant key with READ', async () => {
  const none = await catalog();
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as any).error.code, 'UNAUTHENTICATED');
  assert.equal((await catalog('hg_not-a-key')).status, 401);

  const publisher = await app.createKey(t.key, ['PUBLISH']);
  const forbidden = await catalog(publisher.key);
  assert.equal(forbidden.status, 403);
  assert.equal(((await forbidden.json()) as any).error.code, 'FORBIDDEN');
  assert.equal((await catalog(app.rootKey)).status, 403);

  const admin = await catalog(t.key);
  assert.equal(admin.status, 200, 'ADMIN implies READ');
  assert.deepEqual(Object.keys(((await admin.json()) as any).channels), ['billing.invoice.paid', 'hookgraph.delivery.failed', 'hookgraph.subscription.circuit_closed', 'hookgraph.subscription.circuit_opened', 'hookgraph.subscription.disabled', 'ping', 'user.deleted', 'user.signed-up']);
  assert.deepEqual(Object.keys(((await (await catalog(other.key)).json()) as any).channels), ['hookgraph.delivery.failed', 'hookgraph.subscription.circuit_closed', 'hookgraph.subscription.circuit_opened', 'hookgraph.subscription.disabled', 'secret.plans']);
});

test('the catalog is a valid AsyncAPI 3.0 document of the tenant’s active event types, and describes what is delivered', async () => {
  const read = await app.createKey(t.key, ['READ']);
  const response = await catalog(read.key);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const text = await response.text();
  const doc = JSON.parse(text);
  assert.equal(doc.asyncapi, '3.0.0');
  assert.match(doc.info.version, /^\d+\.\d+\.\d+/);
  // hookgraph's own types (operational events) are in every tenant's catalog.
  assert.deepEqual(Object.keys(doc.channels), ['billing.invoice.paid', 'hookgraph.delivery.failed', 'hookgraph.subscription.circuit_closed', 'hookgraph.subscription.circuit_opened', 'hookgraph.subscription.disabled', 'ping', 'user.deleted', 'user.signed-up'], 'archived and other tenants’ types are left out');
  assert.equal(doc.channels['billing.invoice.paid'].address, 'billing.invoice.paid');
  assert.equal(doc.operations['ping'].action, 'send');

  const { document, diagnostics } = await new Parser().parse(text);
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  assert.deepEqual(errors.map((e) => `${e.code}: ${e.message} at ${e.path.join('.')}`), []);
  assert.ok(document, 'the parser returns a document');
  assert.deepEqual(document.channels().all().map((c) => c.id()).sort(), ['billing.invoice.paid', 'hookgraph.delivery.failed', 'hookgraph.subscription.circuit_closed', 'hookgraph.subscription.circuit_opened', 'hookgraph.subscription.disabled', 'ping', 'user.deleted', 'user.signed-up']);
  assert.equal(document.operations().get('user.signed-up')!.action(), 'send');
  const message = document.channels().get('billing.invoice.paid')!.messages().all()[0];
  assert.deepEqual(Object.keys(message.headers()!.properties()!).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
  // The $ref into the type's own definitions was rebased and resolved by the parser.
  const data = message.payload()!.properties()!.data;
  assert.equal((data.properties()!.items.items() as any).properties().sku.type(), 'string');
  assert.equal(data.properties()!.customer.properties()!.address.properties()!.city.type(), 'string');

  const ajv = new Ajv({ strict: false, validateFormats: false });
  const body = JSON.parse(delivered.body);
  const tampered = { ...body, data: { ...payload, items: [{ quantity: 1 }] } };
  assert.ok(ajv.validate(message.payload()!.json() as object, body), JSON.stringify(ajv.errors));
  assert.ok(ajv.validate(message.headers()!.json() as object, delivered.headers), JSON.stringify(ajv.errors));
  assert.ok(!ajv.validate(message.payload()!.json() as object, tampered), 'the data schema is enforced, not just present');
});
