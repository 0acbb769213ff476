import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { generateApiKey } from '../../src/api/auth.js';
import { runMigrations } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createOrm } from '../../src/db/orm.js';
import { sealOutdatedSecrets } from '../../src/db/seal-rows.js';
import { uuidv7 } from '../../src/domain/ids.js';
import { generateSigningSecret } from '../../src/domain/secrets.js';
import { silentLogger } from '../../src/log.js';
import { startTestApp, TEST_ENV } from '../helpers/app.js';
import { sealV1 } from '../helpers/legacy-seal.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, publish, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

// Invariant 11: custom header values are secrets, sealed at rest, never returned in plain text.
const app = await startTestApp({ label: 'header_secrets' });
const receiver = await startReceiver();
after(() => receiver.close());

const ONE = 'query($id: ID!) { webhookSubscription(id: $id) { id headers } }';
const UPDATE = 'mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { webhookSubscription { headers } userErrors { field code message } } }';
const CREATE = 'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id headers } userErrors { field code message } } }';

async function storedHeaders(id: string): Promise<Record<string, string>> {
  const { rows } = await app.app.pool.query('select headers from webhook_subscription where id = $1', [id]);
  return rows[0].headers;
}

async function freshTenant(): Promise<Tenant> {
  const t = await tenant(app);
  await eventType(t, 'order.created');
  return t;
}

test('header values are sealed in the database, masked for READ and ADMIN keys, and sent in plain text', async () => {
  const t = await freshTenant();
  const created = await app.gql(CREATE, { input: { url: receiver.url + '?sealed', eventTypes: ['*'], headers: { Authorization: 'Bearer receiver-credential', 'x-team': 'billing' } } }, t.key);
  assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors, []);
  const { id, headers } = created.data.webhookSubscriptionCreate.webhookSubscription;
  assert.deepEqual(headers, { authorization: '********', 'x-team': '********' });

  const stored = await storedHeaders(id);
  assert.deepEqual(Object.keys(stored).sort(), ['authorization', 'x-team']);
  for (const value of Object.values(stored)) assert.match(value, /^v2\./);
  assert.doesNotMatch(JSON.stringify(stored), /receiver-credential|billing/);

  const read = (await app.createKey(t.key, ['READ'])).key;
  for (const key of [read, t.key]) {
    const one = await app.gql(ONE, { id }, key);
    assert.deepEqual(one.data.webhookSubscription.headers, { authorization: '********', 'x-team': '********' });
    const list = await app.gql('{ webhookSubscriptions { nodes { headers } } }', {}, key);
    assert.doesNotMatch(JSON.stringify(list), /receiver-credential|billing/);
  }

  const before = receiver.requests.length;
  const event = await publish(t, 'order.created', { n: 1 });
  const [delivery] = await settled(t, event.id);
  const request = receiver.requests.slice(before).find((r) => r.path.endsWith('?sealed'))!;
  assert.equal(request.headers.authorization, 'Bearer receiver-credential');
  assert.equal(request.headers['x-team'], 'billing');
  // The attempt log records that the headers were sent, not their values.
  const attempts = await app.gql('query($id: ID!) { delivery(id: $id) { attempts { requestHeaders } } }', { id: delivery.id }, read);
  const recorded = attempts.data.delivery.attempts[0].requestHeaders;
  assert.equal(recorded.authorization, '[redacted]');
  assert.equal(recorded['x-team'], '[redacted]');
  assert.equal(recorded['webhook-id'], event.id);
  assert.match(recorded['webhook-signature'], /^v1,/);
  // An attempt recorded before every custom value was redacted does not show it either.
  await app.app.pool.query(`update delivery_attempt set request_headers = request_headers || '{"x-team": "billing"}' where delivery_id = $1`, [delivery.id]);
  const old = await app.gql('query($id: ID!) { delivery(id: $id) { attempts { requestHeaders } } }', { id: delivery.id }, t.key);
  assert.equal(old.data.delivery.attempts[0].requestHeaders['x-team'], '[redacted]');
});

test('an update replaces the headers; "********" keeps a stored value; a kept name without a value is refused and changes nothing', async () => {
  const t = await freshTenant();
  const sub = await subscription(t, { url: receiver.url + '?update', eventTypes: ['*'], headers: { authorization: 'Bearer keep-me', 'x-team': 'billing', 'x-gone': 'soon' } });
  const storedBefore = await storedHeaders(sub.id);

  const refused = await app.gql(UPDATE, { input: { id: sub.id, headers: { authorization: '********', 'x-new': '********' } } }, t.key);
  assert.deepEqual(refused.data.webhookSubscriptionUpdate.userErrors.map((e: any) => [e.code, e.field.join('.')]), [['INVALID', 'input.headers.x-new']]);
  assert.deepEqual(await storedHeaders(sub.id), storedBefore);

  // What the console does: send back the masked headers as read, with one value changed and one header removed.
  const updated = await app.gql(UPDATE, { input: { id: sub.id, headers: { authorization: '********', 'x-team': 'payments' } } }, t.key);
  assert.deepEqual(updated.data.webhookSubscriptionUpdate.userErrors, []);
  assert.deepEqual(updated.data.webhookSubscriptionUpdate.webhookSubscription.headers, { authorization: '********', 'x-team': '********' });
  const storedAfter = await storedHeaders(sub.id);
  assert.equal(storedAfter.authorization, storedBefore.authorization);
  assert.doesNotMatch(JSON.stringify(storedAfter), /payments/);

  const before = receiver.requests.length;
  await settled(t, (await publish(t, 'order.created', {})).id);
  const request = receiver.requests.slice(before).find((r) => r.path.endsWith('?update'))!;
  assert.equal(request.headers.authorization, 'Bearer keep-me');
  assert.equal(request.headers['x-team'], 'payments');
  assert.equal(request.headers['x-gone'], undefined);

  // A new subscription has nothing to keep.
  const create = await app.gql(CREATE, { input: { url: receiver.url, eventTypes: ['*'], headers: { authorization: '********' } } }, t.key);
  assert.deepEqual(create.data.webhookSubscriptionCreate.userErrors.map((e: any) => [e.code, e.field.join('.')]), [['INVALID', 'input.headers.authorization']]);
});

/** A database as the release before sealing left it: migrated up to the migration before seal_headers, one tenant with one subscription. */
async function legacyDatabase() {
  const db = await createTestDatabase('legacy_headers');
  const secretKeyHex = randomBytes(32).toString('hex');
  const secretKey = Buffer.from(secretKeyHex, 'hex');
  const orm = await createOrm({ url: db.url, poolSize: 1 });
  await orm.migrator.up({ to: 'Migration20261130210328_delivery_hot' });
  await orm.close();
  const tenantId = uuidv7();
  const subscriptionId = uuidv7();
  const apiKey = generateApiKey();
  const signingSecret = generateSigningSecret();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(`insert into tenant (id, name, created_at) values ($1, 'legacy', now())`, [tenantId]);
  await client.query(`insert into api_key (id, tenant_id, name, prefix, hash, scopes, created_at) values ($1, $2, 'admin', $3, $4, '{ADMIN}', now())`, [uuidv7(), tenantId, apiKey.prefix, apiKey.hash]);
  await client.query(`insert into event_type (id, tenant_id, name, created_at, updated_at) values ($1, $2, 'order.created', now(), now())`, [uuidv7(), tenantId]);
  await client.query(
    `insert into webhook_subscription (id, tenant_id, url, event_types, headers, status, secret_encrypted, ordered, created_at, updated_at)
     values ($1, $2, $3, '{*}', $4, 'ENABLED', $5, false, now(), now())`,
    [subscriptionId, tenantId, receiver.url + '?legacy', JSON.stringify({ authorization: 'Bearer legacy-credential' }), sealV1(secretKey, signingSecret)],
  );
  await client.end();
  const env = { DATABASE_URL: db.url, HOOKGRAPH_SECRET_KEY: secretKeyHex };
  const sealedRow = async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query('select headers, secret_encrypted from webhook_subscription where id = $1', [subscriptionId]);
    await c.end();
    return rows[0];
  };
  return { env, secretKey, tenantId, subscriptionId, apiKey, signingSecret, sealedRow };
}

function assertSealed(row: { headers: Record<string, string>; secret_encrypted: string }): void {
  assert.match(row.secret_encrypted, /^v2\./);
  assert.match(row.headers.authorization, /^v2\./);
  assert.doesNotMatch(JSON.stringify(row), /legacy-credential/);
}

test('a subscription from before sealing (plain-text headers, a v1 signing secret) is sealed at startup and still delivers', async () => {
  const legacy = await legacyDatabase();
  const upgraded = await startTestApp({ label: 'legacy_app', env: legacy.env });
  assertSealed(await legacy.sealedRow());
  // Idempotent: a second run (another process starting) finds nothing left to do.
  assert.equal(await sealOutdatedSecrets(upgraded.app.services!.db, legacy.secretKey, silentLogger), 0);

  const t: Tenant = { app: upgraded, key: legacy.apiKey.key, tenantId: legacy.tenantId };
  const read = await upgraded.gql(ONE, { id: legacy.subscriptionId }, t.key);
  assert.deepEqual(read.data.webhookSubscription.headers, { authorization: '********' });
  const before = receiver.requests.length;
  const event = await publish(t, 'order.created', { n: 1 });
  const [delivery] = await settled(t, event.id);
  assert.equal(delivery.status, 'SUCCEEDED', JSON.stringify(delivery));
  const request = receiver.requests.slice(before).find((r) => r.path.endsWith('?legacy'))!;
  assert.equal(request.headers.authorization, 'Bearer legacy-credential');
  new Webhook(legacy.signingSecret).verify(request.body, request.headers as Record<string, string>);
});

test('the migrate role seals too', async () => {
  const legacy = await legacyDatabase();
  const applied = await runMigrations(loadConfig({ ...TEST_ENV, ...legacy.env, HOOKGRAPH_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-test-')) }), silentLogger);
  assert.ok(applied.includes('Migration20261201200000_seal_headers'), applied.join(', '));
  assertSealed(await legacy.sealedRow());
});
