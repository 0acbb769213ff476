import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { errorCode, wsClient } from '../helpers/graphql.js';

// A small cap, so that an answer the estimate undercounts (introspection's lists are sized by averages) goes over it.
const app = await startTestApp({ label: 'response_size', env: { HOOKGRAPH_MAX_PAYLOAD_BYTES: '1024', HOOKGRAPH_MAX_RESPONSE_BYTES: '8192' } });
const { adminKey } = await app.createTenant();

// Estimated at about 5 KiB; the Subscription type's long descriptions make it about 11 KiB.
const LARGE = `{ ${Array.from({ length: 10 }, (_, i) => `a${i}: __type(name: "Subscription") { fields { description } }`).join(' ')} }`;

test('an answer larger than HOOKGRAPH_MAX_RESPONSE_BYTES is replaced by one RESPONSE_TOO_LARGE error over HTTP', async () => {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ query: LARGE }),
  });
  const text = await response.text();
  assert.ok(text.length < 1000, `answered ${text.length} bytes`);
  const body = JSON.parse(text);
  assert.equal(body.data, undefined);
  assert.deepEqual(body.errors.map((e: any) => e.extensions.code), ['RESPONSE_TOO_LARGE']);
  assert.match(body.errors[0].message, /more than the 8 KiB limit/);
  // A smaller answer on the same server is sent whole.
  const small = await app.gql('{ __type(name: "Subscription") { fields { name } } }', {}, adminKey);
  assert.equal(errorCode(small), undefined);
  assert.equal(small.data.__type.fields.length, 3);
});

test('the same cap applies to graphql-ws next messages', async () => {
  const ws = wsClient(app.url, adminKey);
  const result: any = await ws.subscribe(LARGE).next();
  assert.deepEqual(result.errors.map((e: any) => e.extensions.code), ['RESPONSE_TOO_LARGE']);
  assert.equal(result.data, undefined);
  const small: any = await ws.subscribe('{ viewer { root } }').next();
  assert.deepEqual(small, { viewer: { root: false } });
  await ws.dispose();
});

test('estimates use the configured limits: 20 payloads of up to 1 KiB fit in 4 × 8 KiB, 40 do not', async () => {
  assert.equal(errorCode(await app.gql('{ events(first: 20) { nodes { payload } } }', {}, adminKey)), undefined);
  const refused = await app.gql('{ events(first: 40) { nodes { payload } } }', {}, adminKey);
  assert.equal(errorCode(refused), 'GRAPHQL_VALIDATION_FAILED');
  assert.match(refused.errors![0].message, /more than 32 KiB \(4 × the 8 KiB answer limit\) \(large fields count at their size limit: Event\.payload 1 KiB\)/);
});
