import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { errorCode } from '../helpers/graphql.js';

const app = await startTestApp({ label: 'auth' });

const VIEWER = '{ viewer { root tenant { id name } apiKey { id scopes } scopes } }';
const API_KEY_CREATE = 'mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { apiKey { id name scopes prefix } apiKeySecret userErrors { field code message } } }';
const API_KEY_REVOKE = 'mutation($id: ID!) { apiKeyRevoke(input: {id: $id}) { apiKey { id revokedAt } userErrors { field code message } } }';
const TENANT_CREATE = 'mutation($name: String!) { tenantCreate(input: {name: $name}) { tenant { id name } apiKey { scopes } apiKeySecret userErrors { field code message } } }';

test('the root key creates a tenant whose admin key sees it through viewer', async () => {
  const created = await app.gql(TENANT_CREATE, { name: 'Acme' }, app.rootKey);
  const payload = created.data.tenantCreate;
  assert.deepEqual(payload.userErrors, []);
  assert.equal(payload.tenant.name, 'Acme');
  assert.deepEqual(payload.apiKey.scopes, ['ADMIN']);
  assert.match(payload.apiKeySecret, /^hg_[A-Za-z0-9_-]{43}$/);

  const viewer = await app.gql(VIEWER, {}, payload.apiKeySecret);
  assert.equal(viewer.data.viewer.tenant.id, payload.tenant.id);
  assert.equal(viewer.data.viewer.root, false);
  assert.deepEqual(viewer.data.viewer.scopes, ['ADMIN']);
});

test('no key, a malformed header and a wrong key are UNAUTHENTICATED', async () => {
  const none = await app.gql(VIEWER);
  assert.equal(errorCode(none), 'UNAUTHENTICATED');
  const wrong = await app.gql(VIEWER, {}, 'hg_not-a-real-key-000000000000000000000000000');
  assert.equal(errorCode(wrong), 'UNAUTHENTICATED');
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
    body: JSON.stringify({ query: VIEWER }),
  });
  assert.equal(((await response.json()) as any).errors[0].extensions.code, 'UNAUTHENTICATED');
});

test('tenantCreate needs the root key; tenant keys get FORBIDDEN', async () => {
  const { adminKey } = await app.createTenant();
  assert.equal(errorCode(await app.gql(TENANT_CREATE, { name: 'x' }, adminKey)), 'FORBIDDEN');
  assert.equal(errorCode(await app.gql(TENANT_CREATE, { name: 'x' })), 'UNAUTHENTICATED');
});

test('the root key is FORBIDDEN on tenant operations', async () => {
  const result = await app.gql(API_KEY_CREATE, { input: { name: 'k', scopes: ['READ'] } }, app.rootKey);
  assert.equal(errorCode(result), 'FORBIDDEN');
});

test('scope matrix: who may call viewer, apiKeyCreate, apiKeyRevoke, apiKeys', async () => {
  const { adminKey } = await app.createTenant();
  const read = await app.createKey(adminKey, ['READ']);
  const publish = await app.createKey(adminKey, ['PUBLISH']);
  const victim = await app.createKey(adminKey, ['READ']);
  const operations: Record<string, (key: string) => Promise<any>> = {
    viewer: (key) => app.gql(VIEWER, {}, key),
    apiKeys: (key) => app.gql('{ apiKeys { nodes { id } } }', {}, key),
    apiKeyCreate: (key) => app.gql(API_KEY_CREATE, { input: { name: 'k', scopes: ['READ'] } }, key),
    apiKeyRevoke: (key) => app.gql(API_KEY_REVOKE, { id: victim.id }, key),
  };
  const expected: Record<string, Record<string, string | undefined>> = {
    ADMIN: { viewer: undefined, apiKeys: undefined, apiKeyCreate: undefined, apiKeyRevoke: undefined },
    PUBLISH: { viewer: undefined, apiKeys: 'FORBIDDEN', apiKeyCreate: 'FORBIDDEN', apiKeyRevoke: 'FORBIDDEN' },
    READ: { viewer: undefined, apiKeys: 'FORBIDDEN', apiKeyCreate: 'FORBIDDEN', apiKeyRevoke: 'FORBIDDEN' },
  };
  const keys: Record<string, string> = { READ: read.key, PUBLISH: publish.key };
  for (const scope of ['READ', 'PUBLISH', 'ADMIN']) {
    for (const [name, call] of Object.entries(operations)) {
      if (scope === 'ADMIN' && name === 'apiKeyRevoke') continue; // run last, below
      const result = await call(scope === 'ADMIN' ? adminKey : keys[scope]);
      assert.equal(errorCode(result), expected[scope][name], `${scope} × ${name}`);
    }
  }
  const revoked = await operations.apiKeyRevoke(adminKey);
  assert.equal(errorCode(revoked), undefined);
  assert.ok(revoked.data.apiKeyRevoke.apiKey.revokedAt);
});

test('a revoked key stops working at once', async () => {
  const { adminKey } = await app.createTenant();
  const read = await app.createKey(adminKey, ['READ']);
  assert.equal(errorCode(await app.gql(VIEWER, {}, read.key)), undefined);
  const revoked = await app.gql(API_KEY_REVOKE, { id: read.id }, adminKey);
  assert.deepEqual(revoked.data.apiKeyRevoke.userErrors, []);
  assert.equal(errorCode(await app.gql(VIEWER, {}, read.key)), 'UNAUTHENTICATED');
});

test('bad input on apiKeyCreate is a userError naming the field and creates nothing', async () => {
  const { adminKey } = await app.createTenant();
  const before = await app.gql('{ apiKeys { nodes { id } } }', {}, adminKey);
  const result = await app.gql(API_KEY_CREATE, { input: { name: '  ', scopes: [] } }, adminKey);
  const errors = result.data.apiKeyCreate.userErrors;
  assert.deepEqual(errors.map((e: any) => [e.field.join('.'), e.code]), [['input.name', 'REQUIRED'], ['input.scopes', 'REQUIRED']]);
  assert.equal(result.data.apiKeyCreate.apiKey, null);
  const afterwards = await app.gql('{ apiKeys { nodes { id } } }', {}, adminKey);
  assert.equal(afterwards.data.apiKeys.nodes.length, before.data.apiKeys.nodes.length);
});

test("another tenant's key id reads as not found on revoke", async () => {
  const a = await app.createTenant('A');
  const b = await app.createTenant('B');
  const bKey = await app.createKey(b.adminKey, ['READ']);
  const result = await app.gql(API_KEY_REVOKE, { id: bKey.id }, a.adminKey);
  assert.equal(result.data.apiKeyRevoke.userErrors[0].code, 'NOT_FOUND');
  assert.equal(errorCode(await app.gql(VIEWER, {}, bKey.key)), undefined);
});
