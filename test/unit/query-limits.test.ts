import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import * as console from '../../admin/src/queries.js';
import { queryLimits } from '../../src/api/query-limits.js';
import { checkResponseSize } from '../../src/api/response-size.js';

// The committed schema (CI keeps it equal to the running one) and the default limits.
const schema = buildSchema(fs.readFileSync('schema/schema.graphql', 'utf8'));
const rules = [...specifiedRules, queryLimits({ maxPayloadBytes: 256 * 1024, maxResponseBytes: 8 * 1024 * 1024 })];

function problems(query: string): string[] {
  return validate(schema, parse(query), rules).map((e) => e.message);
}

const aliased = (count: number, selection: string) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;

test('every document the admin console sends is within the limits', () => {
  const documents = Object.entries(console).filter(([name, value]) => typeof value === 'string' && /^(query|mutation|subscription)\b/.test(value) && name);
  assert.ok(documents.length >= 15, 'the console documents were found');
  for (const [name, document] of documents) assert.deepEqual(problems(document as string), [], name);
});

test('the standard introspection query (graphql-codegen, GraphiQL) is within the limits', () => {
  const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
  assert.deepEqual(problems(query), []);
});

test('2,000 aliases of an introspection selection are refused for their aliases and their cost', () => {
  const found = problems(aliased(2000, '__schema { types { name fields { name type { name } } } }'));
  assert.ok(found.some((m) => /2000 aliased fields, more than 100/.test(m)), found.join('\n'));
  assert.ok(found.some((m) => /about \d+ fields, more than 50000/.test(m)), found.join('\n'));
  assert.ok(found.some((m) => /2000 root fields, more than 20/.test(m)), found.join('\n'));
});

test('introspection is nested at most 16 levels deep', () => {
  let typeRef = 'name';
  for (let i = 0; i < 16; i++) typeRef = `ofType { ${typeRef} }`;
  const found = problems(`{ __type(name: "Query") { fields { type { ${typeRef} } } } }`);
  assert.ok(found.some((m) => /Introspection is nested 19 levels deep, more than 16/.test(m)), found.join('\n'));
});

test('payloads weigh their size limit: pages of payloads under aliases are refused, a single page is not', () => {
  const attack = problems(aliased(250, 'events(first: 100) { nodes { payload } }'));
  assert.ok(attack.some((m) => /may answer about [\d.]+ MiB, more than 32 MiB \(4 × the 8 MiB answer limit\) \(large fields count at their size limit: Event\.payload 256 KiB\)/.test(m)), attack.join('\n'));
  // One page of 100 payloads may be 25 MiB: within the estimate, and the answer itself is capped at 8 MiB.
  assert.deepEqual(problems('{ events(first: 100) { nodes { payload } } }'), []);
  assert.ok(problems('{ a: events(first: 100) { nodes { payload } } b: events(first: 100) { nodes { payload } } }').some((m) => /may answer about 50 MiB/.test(m)));
  assert.deepEqual(problems('{ events { nodes { id payload } } }'), []);
  assert.deepEqual(problems('{ events(first: 100) { nodes { id eventType occurredAt } } }'), []);
});

test('other large fields weigh their limits too: response bodies and headers of every attempt of a page of deliveries', () => {
  const found = problems('{ deliveries(first: 100) { nodes { attempts { responseBody requestHeaders responseHeaders } } } }');
  assert.ok(found.some((m) => /DeliveryAttempt\.responseBody 4 KiB/.test(m)), found.join('\n'));
  assert.deepEqual(problems('{ deliveries(first: 10) { nodes { attempts { responseBody requestHeaders responseHeaders } } } }'), []);
});

test('a connection without `first` counts its default page of 20, not one node', () => {
  // 7 × 20 × 256 KiB = 35 MiB.
  const found = problems(`{ ${Array.from({ length: 7 }, (_, i) => `e${i}: events { nodes { payload } }`).join(' ')} }`);
  assert.ok(found.some((m) => /may answer about 35 MiB/.test(m)), found.join('\n'));
});

test('deliveryUpdated(since:) counts its replay: up to 1000 deliveries before the live ones', () => {
  assert.deepEqual(problems('subscription { deliveryUpdated { id status event { payload } } }'), []);
  const replay = problems('subscription($since: DateTime) { deliveryUpdated(since: $since) { id status event { payload } } }');
  assert.ok(replay.some((m) => /Event\.payload 256 KiB/.test(m)), replay.join('\n'));
  assert.deepEqual(problems('subscription($since: DateTime) { deliveryUpdated(since: $since) { id status attemptCount } }'), []);
});

test('root fields are capped, fragments included', () => {
  const fragment = `fragment Many on Query { ${Array.from({ length: 21 }, (_, i) => `v${i}: viewer { root }`).join(' ')} }`;
  const found = problems(`query { ...Many } ${fragment}`);
  assert.ok(found.some((m) => /21 root fields, more than 20/.test(m)), found.join('\n'));
  assert.deepEqual(problems(aliased(20, 'viewer { root }')), []);
  // Aliases inside a list are fields of each item, not more requests.
  assert.deepEqual(problems('{ events(first: 100) { nodes { a: id b: eventType } } }'), []);
});

test('an answer over the cap becomes one RESPONSE_TOO_LARGE error; a mutation says it was applied', () => {
  const answer = { data: { text: 'x'.repeat(5000) } };
  assert.equal(checkResponseSize(answer, 8192, false), undefined);
  const query = checkResponseSize(answer, 4096, false)!;
  assert.equal(query.extensions!.code, 'RESPONSE_TOO_LARGE');
  assert.match(query.message, /The answer is about 4\.9 KiB, more than the 4 KiB limit/);
  assert.doesNotMatch(query.message, /mutation/);
  assert.match(checkResponseSize(answer, 4096, true)!.message, /The mutation was applied/);
  // Multi-byte text is measured in bytes.
  assert.ok(checkResponseSize({ data: { text: 'é'.repeat(3000) } }, 4096, false));
});

test('deliveryStats weighs its database work: up to 4 in one operation, not 5', () => {
  const stats = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `s${i}: deliveryStats(since: "2026-01-01T00:00:00Z") { total { total } }`).join(' ')} }`;
  assert.deepEqual(problems(stats(4)), []);
  assert.ok(problems(stats(5)).some((m) => /more than 50000/.test(m)), problems(stats(5)).join('\n'));
});
