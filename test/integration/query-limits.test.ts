import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { errorCode, wsClient } from '../helpers/graphql.js';

const app = await startTestApp({ label: 'limits' });
const { adminKey } = await app.createTenant();

function nested(depth: number): string {
  let selection = 'name';
  for (let i = 0; i < depth; i++) selection = `ofType { ${selection} }`;
  return `{ __schema { types { fields { type { ${selection} } } } } }`;
}

test('queries nested deeper than the limit are refused before running', async () => {
  const ok = await app.gql(nested(6), {}, adminKey);
  assert.equal(errorCode(ok), undefined);
  const deep = await app.gql(nested(12), {}, adminKey);
  assert.equal(errorCode(deep), 'GRAPHQL_VALIDATION_FAILED');
  assert.match(deep.errors![0].message, /nested \d+ levels deep, more than 12/);
});

test('fragment fan-out is measured once per fragment: a tiny hostile document is refused, not computed', async () => {
  // F0 spreads F1 ten times, F1 spreads F2 ten times, … : 10^7 paths in 600 bytes.
  const levels = 7;
  const fragments = [];
  for (let i = 0; i < levels; i++) {
    const body = i === levels - 1 ? `viewer { root }` : Array.from({ length: 10 }, () => `...F${i + 1}`).join(' ');
    fragments.push(`fragment F${i} on Query { ${body} }`);
  }
  const query = `query { ...F0 } ${fragments.join(' ')}`;
  // Refused before authentication (no key sent) and before execution: 10^6 viewer fields estimated.
  const result = await app.gql(query);
  assert.equal(errorCode(result), 'GRAPHQL_VALIDATION_FAILED');
  assert.match(result.errors![0].message, /about \d+ fields, more than 50000/);
});

test('connections multiply the cost: a page of pages of attempts is refused, a normal page is not', async () => {
  const heavy = await app.gql('{ events(first: 100) { nodes { deliveries(first: 100) { nodes { attempts { attemptNumber responseStatus durationMs } } } } } }', {}, adminKey);
  assert.equal(errorCode(heavy), 'GRAPHQL_VALIDATION_FAILED');
  assert.match(heavy.errors![0].message, /more than 50000/);
  const viaVariable = await app.gql('query($n: Int) { events(first: $n) { nodes { deliveries(first: $n) { nodes { attempts { attemptNumber responseStatus durationMs } } } } } }', { n: 2 }, adminKey);
  assert.equal(errorCode(viaVariable), 'GRAPHQL_VALIDATION_FAILED', 'a variable page size counts as the maximum');
  const normal = await app.gql('{ deliveries(first: 50) { nodes { id status attempts { attemptNumber responseStatus } event { id eventType } webhookSubscription { id url } } } }', {}, adminKey);
  assert.equal(errorCode(normal), undefined);
});

test('the same limits apply over graphql-ws', async () => {
  const ws = wsClient(app.url, adminKey);
  const sub = ws.subscribe(nested(12));
  const outcome = await sub.ended;
  assert.ok(Array.isArray(outcome), 'the operation ends with validation errors');
  assert.match((outcome as { message: string }[])[0].message, /more than 12/);
  await ws.dispose();
});
