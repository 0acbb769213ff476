import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getIntrospectionQuery } from 'graphql';
import { startTestApp } from '../helpers/app.js';
import { errorCode, wsClient } from '../helpers/graphql.js';

const app = await startTestApp({ label: 'limits' });
const { adminKey } = await app.createTenant();

const NO_ID = { id: '00000000-0000-7000-8000-000000000000' };

/** delivery → (event → deliveries → nodes) × cycles: 1 + 3 × cycles levels. */
function nested(cycles: number): string {
  let selection = 'id';
  for (let i = 0; i < cycles; i++) selection = `event { deliveries(first: 1) { nodes { ${selection} } } }`;
  return `query($id: ID!) { delivery(id: $id) { ${selection} } }`;
}

test('queries nested deeper than the limit are refused before running', async () => {
  const ok = await app.gql(nested(3), NO_ID, adminKey);
  assert.equal(errorCode(ok), undefined);
  const deep = await app.gql(nested(4), NO_ID, adminKey);
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
  const sub = ws.subscribe(nested(4), NO_ID);
  const outcome = await sub.ended;
  assert.ok(Array.isArray(outcome), 'the operation ends with validation errors');
  assert.match((outcome as { message: string }[])[0].message, /more than 12/);
  await ws.dispose();
});

const aliased = (count: number, selection: string) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;

async function post(query: string, key?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, text: await response.text() };
}

test('an anonymous document of 2,000 introspection aliases is refused small, and another tenant is answered', async () => {
  const other = await app.createTenant('Other');
  // About 120 KB of query text: over the document limit, refused before it is parsed.
  const hostile = post(aliased(2000, '__schema { types { name fields { name type { name } } } }'));
  const normal = await app.gql('{ viewer { tenant { id } } }', {}, other.adminKey);
  assert.equal(normal.data.viewer.tenant.id, other.tenantId);
  const refused = await hostile;
  assert.equal(refused.status, 413);
  assert.ok(refused.text.length < 20_000, `answered ${refused.text.length} bytes`);
  const body = JSON.parse(refused.text);
  assert.equal(body.data, undefined, 'nothing was executed');
  assert.deepEqual(new Set(body.errors.map((e: any) => e.extensions.code)), new Set(['BAD_REQUEST']));

  // Within the document limit, the same attack is refused by the query limits before it runs.
  const smaller = await post(aliased(600, '__schema { types { name fields { name type { name } } } }'));
  assert.equal(smaller.status, 400);
  assert.ok(smaller.text.length < 20_000, `answered ${smaller.text.length} bytes`);
  const limited = JSON.parse(smaller.text);
  assert.equal(limited.data, undefined, 'nothing was executed');
  assert.deepEqual(new Set(limited.errors.map((e: any) => e.extensions.code)), new Set(['GRAPHQL_VALIDATION_FAILED']));
  const messages = limited.errors.map((e: any) => e.message).join('\n');
  assert.match(messages, /600 aliased fields, more than 100/);
  assert.match(messages, /600 root fields, more than 20/);
});

test('a READ key asking for pages of payloads under 250 aliases is refused before execution', async () => {
  const read = await app.createKey(adminKey, ['READ']);
  const result = await app.gql(aliased(250, 'events(first: 100) { nodes { payload } }'), {}, read.key);
  assert.equal(result.status, 400);
  assert.equal(result.data, undefined);
  assert.equal(errorCode(result), 'GRAPHQL_VALIDATION_FAILED');
  assert.ok(result.errors!.some((e) => /may answer about [\d.]+ [MG]iB, more than 32 MiB \(4 × the 8 MiB answer limit\) \(large fields count at their size limit: Event\.payload 256 KiB\)/.test(e.message)));
  const page = await app.gql('{ events(first: 20) { nodes { id payload } } }', {}, read.key);
  assert.equal(errorCode(page), undefined);
});

test('introspection needs a key; __typename does not', async () => {
  for (const query of ['{ __schema { queryType { name } } }', 'query { ...T } fragment T on Query { __type(name: "Event") { name } }']) {
    const anonymous = await app.gql(query);
    assert.equal(anonymous.status, 401, query);
    assert.equal(errorCode(anonymous), 'UNAUTHENTICATED', query);
    assert.match(anonymous.errors![0].message, /Introspection \(__schema, __type\) needs an API key/);
    assert.equal(anonymous.data, undefined);
    assert.equal(errorCode(await app.gql(query, {}, 'hg_not_a_key')), 'UNAUTHENTICATED');
  }
  const typename = await app.gql('{ __typename }');
  assert.deepEqual(typename.data, { __typename: 'Query' });
  const withKey = await app.gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }), {}, adminKey);
  assert.equal(errorCode(withKey), undefined);
  assert.ok(withKey.data.__schema.types.some((t: any) => t.name === 'Event'));
});
