import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startTestApp } from '../helpers/app.js';
import { Deep, post, problemWith, rowCounter, toJson } from '../helpers/fuzz.js';

// Known causes of INTERNAL_SERVER_ERROR found by an outside fuzzer, and hostile request envelopes.
const app = await startTestApp({ label: 'fuzz_transport', role: 'api', env: { NODE_ENV: 'production' } });
const { adminKey } = await app.createTenant('Tenant A');
const counter = await rowCounter(app.db.url);
await app.gql('mutation { eventTypeCreate(input: {name: "order.created"}) { userErrors { code } } }', {}, adminKey);

function body(query: string, variables?: unknown, extra: Record<string, unknown> = {}): string {
  return toJson({ query, variables, ...extra });
}

async function refusedWithoutChange(requestBody: string, key = adminKey) {
  const before = await counter.counts();
  const answer = await post(app.url, requestBody, key);
  assert.equal(problemWith(answer), undefined, answer.text.slice(0, 500));
  assert.deepEqual(await counter.counts(), before, 'nothing changed');
  return answer;
}

const PUBLISH = 'mutation($i: EventPublishInput!) { eventPublish(input: $i) { event { id } userErrors { field code message } } }';

test('text PostgreSQL cannot store is a userError naming the field, in strings and inside JSON', async () => {
  const cases: [unknown, string[]][] = [
    [{ eventType: 'a\u0000b', payload: {} }, ['input', 'eventType']],
    [{ eventType: 'order.created', payload: { note: 'x\u0000y' } }, ['input', 'payload', 'note']],
    [{ eventType: 'order.created', payload: { ['k\uD800']: 1 } }, ['input', 'payload']],
    [{ eventType: 'order.created', payload: ['ok', '\uDC00'] }, ['input', 'payload', '1']],
    [{ eventType: 'order.created', payload: {}, idempotencyKey: '\uD83D' }, ['input', 'idempotencyKey']],
  ];
  for (const [input, field] of cases) {
    const answer = await refusedWithoutChange(body(PUBLISH, { i: input }));
    const payload = (answer.json!.data as any).eventPublish;
    assert.equal(payload.event, null);
    assert.equal(payload.userErrors[0].code, 'INVALID', answer.text);
    assert.deepEqual(payload.userErrors[0].field.slice(0, field.length), field, answer.text);
  }
  // Written inline in the document, too.
  const inline = await refusedWithoutChange(body('mutation { tenantCreate(input: {name: "a\\u0000b"}) { tenant { id } userErrors { field code } } }'), app.rootKey);
  assert.deepEqual((inline.json!.data as any).tenantCreate.userErrors, [{ field: ['input', 'name'], code: 'INVALID' }]);
  // Queries have no userErrors: BAD_USER_INPUT naming the argument.
  const query = await refusedWithoutChange(body('query($n: String!) { eventType(name: $n) { name } }', { n: 'a\u0000' }));
  assert.equal(query.json!.errors![0].extensions!.code, 'BAD_USER_INPUT');
  assert.match(query.json!.errors![0].message, /^name/);
});

test('JSON deeper than the limit is refused before anything recurses over it', async () => {
  for (const deep of [new Deep(65, 'array'), new Deep(100_000, 'array'), new Deep(100_000, 'object')]) {
    const answer = await refusedWithoutChange(`{"query":${JSON.stringify(PUBLISH)},"variables":{"i":{"eventType":"order.created","payload":${deep.json()}}}}`);
    assert.match(answer.text, /deeper than 64/);
  }
  const inline = await refusedWithoutChange(body(`mutation { eventPublish(input: {eventType: "order.created", payload: ${new Deep(5_000, 'array').literal()}}) { userErrors { field } } }`));
  assert.notEqual(inline.json!.errors?.[0]?.extensions?.code, undefined, inline.text.slice(0, 300));
  // 64 levels are fine.
  const fine = await post(app.url, `{"query":${JSON.stringify(PUBLISH)},"variables":{"i":{"eventType":"order.created","payload":${new Deep(64, 'array').json()}}}}`, adminKey);
  assert.deepEqual((fine.json!.data as any).eventPublish.userErrors, [], fine.text.slice(0, 300));
});

test('a JSON Schema with an unknown or non-string $schema is a userError', async () => {
  for (const $schema of ['http://unknown/schema', 42, null, { a: 1 }]) {
    const answer = await refusedWithoutChange(body('mutation($i: EventTypeCreateInput!) { eventTypeCreate(input: $i) { eventType { name } userErrors { field code } } }', { i: { name: 'schema.test', schema: { $schema, type: 'object' } } }));
    const errors = (answer.json!.data as any).eventTypeCreate.userErrors;
    assert.equal(errors[0].code, 'INVALID_SCHEMA', answer.text);
    assert.deepEqual(errors[0].field.slice(0, 2), ['input', 'schema']);
  }
});

test('request envelopes a client gets wrong answer with client codes', async () => {
  const manyBadVariables = `query(${Array.from({ length: 60 }, (_, i) => `$v${i}: Int`).join(', ')}) { viewer { __typename } }`;
  const envelopes: [string, Record<string, string>?][] = [
    [body(manyBadVariables, Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`v${i}`, 'x'])))],
    [body('mutation($n: [String!]!) { tenantCreate(input: {name: "x"}) { tenant { id } } }', { n: Array.from({ length: 100 }, () => null) })],
    [body('subscription { eventPublished { id } }')],
    [body('subscription { webhookSubscriptionUpdated { id } }')],
    [body('{ viewer { __typename } }', undefined, { extensions: { persistedQuery: { version: 1, sha256Hash: 'nope' } } })],
    [toJson({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } })],
    [toJson({ extensions: { persistedQuery: { version: 2, sha256Hash: 'a'.repeat(64) } } })],
    [toJson({ extensions: { persistedQuery: 'x' } })],
    [toJson({ extensions: { persistedQuery: { version: 1, sha256Hash: 5 } } })],
    [toJson({ query: '{ viewer { __typename } }', extensions: 'x' })],
    [toJson({ query: 42 })],
    [toJson({ query: '{ viewer { __typename } }', variables: 'x' })],
    [toJson({ query: '{ viewer { __typename } }', operationName: 42 })],
    [toJson([{ query: '{ viewer { __typename } }' }])],
    ['{"query": "{ viewer'],
    ['null'],
    ['"x"'],
    [body('{ viewer { __typename } }'), { 'content-type': 'text/plain' }],
    [body('{ viewer { __typename } }'), { 'content-type': 'application/json; charset=latin1' }],
    [body(`{ viewer ${'{ a '.repeat(20_000)} }`)],
    [body(`{ ${'viewer { __typename } '.repeat(20_000)} }`)],
    [body(`query($a: JSON) { viewer { __typename } }`, { a: 1 }), { 'content-type': 'application/json', 'apollo-require-preflight': 'x' }],
    [`{"query":${JSON.stringify('x'.repeat(200_000))}}`],
    [`{"query":"{ viewer { __typename } }","variables":${new Deep(200_000, 'array').json()}}`],
  ];
  for (const [requestBody, headers] of envelopes) {
    const answer = await post(app.url, requestBody, adminKey, headers);
    assert.equal(problemWith(answer), undefined, `${requestBody.slice(0, 120)} → ${answer.text.slice(0, 300)}`);
    assert.ok(answer.status >= 200 && answer.status < 500, `${requestBody.slice(0, 120)} → ${answer.status}`);
  }
});

test('random request bodies never get a server error', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.json(), fc.string(), fc.record({ query: fc.oneof(fc.string(), fc.jsonValue()), variables: fc.jsonValue(), extensions: fc.jsonValue() }).map((v) => JSON.stringify(v))), async (text) => {
      const answer = await post(app.url, text, adminKey);
      assert.equal(problemWith(answer), undefined, `${text.slice(0, 200)} → ${answer.text.slice(0, 300)}`);
    }),
    { seed: 1313, numRuns: 300 },
  );
});
