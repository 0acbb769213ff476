import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyseSchema, MAX_SCHEMA_DEPTH, MAX_SCHEMA_NODES, MAX_SCHEMA_WIDTH } from '../../src/domain/json-schema-cost.js';
import { jsonSchemaProblem, validatePayload } from '../../src/domain/json-schema.js';
import { OverBudget, WorkMeter } from '../../src/domain/work-meter.js';

function plan(schema: unknown) {
  const analysis = analyseSchema(schema);
  assert.ok('plan' in analysis, JSON.stringify(analysis));
  return analysis.plan;
}

test('cost is the weight of the subschemas applying to each value, summed over the payload', () => {
  const schema = { type: 'object', required: ['a'], properties: { a: { type: 'number' }, list: { type: 'array', items: { type: 'string' } } } };
  const cost = plan(schema);
  // root: 1 + type + required[1] + properties{2} = 5; a: 2; list: 3; each string item: 2.
  assert.equal(cost.cost({ a: 1 }, Infinity), 5 + 2);
  assert.equal(cost.cost({ a: 1, list: ['x', 'y', 'z'] }, Infinity), 5 + 2 + 3 + 3 * 2);
  assert.equal(cost.cost({ a: 1, other: { deep: [1, 2, 3] } }, Infinity), 5 + 2, 'values no subschema applies to cost nothing');
  // Branches and $ref targets count at every value they apply to.
  const branchy = { definitions: { s: { type: 'string' } }, type: 'array', items: { anyOf: [{ $ref: '#/definitions/s' }, { type: 'number' }] } };
  // root: 1 + definitions{1} + type + items = 4; each item: anyOf node 3 + ref node 2 + s 2 + number branch 2 = 9.
  assert.equal(plan(branchy).cost([1, 'a'], Infinity), 4 + 2 * 9);
  assert.ok(plan(branchy).cost(new Array(1000).fill(0), 100) <= 100 + 9, 'counting stops past the limit');
});

test('regexes are charged per character they read', () => {
  // root: 1 + type + items = 3; each item: 1 + type + pattern = 3, plus 5 per character.
  assert.equal(plan({ type: 'array', items: { type: 'string', pattern: '^a' } }).cost(['ab', 'a'.repeat(1000)], Infinity), 3 + 2 * 3 + 5 * 1002);
  // root: 1 + patternProperties{2} = 3, plus 2 patterns × 5 per character of each key; each value: 1 + type = 2, twice.
  assert.equal(plan({ patternProperties: { '^x': { type: 'number' }, '^y': { type: 'number' } } }).cost({ xx: 1, yyyy: 2 }, Infinity), 3 + 10 * 6 + 2 * 2 * 2);
});

test('width: at most MAX_SCHEMA_WIDTH subschemas per value, however they are reached', () => {
  const branches = (n: number) => Array.from({ length: n }, (_, i) => ({ const: i }));
  assert.equal(jsonSchemaProblem({ anyOf: branches(MAX_SCHEMA_WIDTH - 1) }), undefined);
  assert.deepEqual(jsonSchemaProblem({ anyOf: branches(MAX_SCHEMA_WIDTH) })?.path, []);
  // Two branches each descending into the same items multiply per level.
  const doubling = { definitions: { d: { anyOf: [{ items: { $ref: '#/definitions/d' } }, { items: { $ref: '#/definitions/d' } }] } }, $ref: '#/definitions/d' };
  assert.match(jsonSchemaProblem(doubling)?.message ?? '', /More than 64 subschemas/);
  assert.match(jsonSchemaProblem({ definitions: { a: { $ref: '#/definitions/b' }, b: { allOf: [{ $ref: '#/definitions/a' }] } }, $ref: '#/definitions/a' })?.message ?? '', /never end/);
  const nodes = Object.fromEntries(Array.from({ length: MAX_SCHEMA_NODES }, (_, i) => [`p${i}`, true]));
  assert.equal(jsonSchemaProblem({ properties: nodes }), undefined, 'boolean subschemas are not counted as nodes');
});

test('the 500-ref schema compiles to code of bounded size', () => {
  const properties = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, { type: 'string' }]));
  const refs = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`r${i}`, { $ref: '#/definitions/d' }]));
  const schema = { definitions: { d: { type: 'object', properties } }, type: 'object', properties: refs };
  assert.equal(jsonSchemaProblem(schema), undefined);
  const payload = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`r${i}`, { p0: 'x', p199: 'y' }]));
  const meter = new WorkMeter(Infinity);
  assert.deepEqual(validatePayload(schema, payload, meter), { ok: true });
  assert.ok(meter.units > 500 * 200, 'each referenced object is charged its 200 properties');
});

test('validatePayload charges the meter before validating and throws past its limit', () => {
  const schema = { type: 'array', items: { type: 'integer' } };
  const meter = new WorkMeter(1000);
  assert.deepEqual(validatePayload(schema, [1, 2, 3], meter), { ok: true });
  assert.ok(meter.units > 0);
  assert.throws(() => validatePayload(schema, new Array(1000).fill('not checked'), meter), OverBudget);
  assert.equal(validatePayload(schema, ['x']).ok, false, 'without a meter nothing is counted');
});

test('uniqueItems compares JSON values whatever the key order, in one pass', () => {
  const schema = { type: 'array', uniqueItems: true };
  assert.deepEqual(validatePayload(schema, [1, '1', [1], { a: 1 }, { a: '1' }, null, true, 1.5]), { ok: true });
  const dup = validatePayload(schema, [{ a: 1, b: { c: [1, 2] } }, 2, { b: { c: [1, 2] }, a: 1 }]);
  assert.equal(dup.ok, false);
  assert.match(dup.ok ? '' : dup.message, /items ## 0 and 2 are identical/);
  assert.equal(validatePayload(schema, [[1, 2], [2, 1]]).ok, true, 'array order matters');
  assert.equal(validatePayload({ uniqueItems: false }, [1, 1]).ok, true);
  assert.equal(validatePayload(schema, Array.from({ length: 40_000 }, (_, i) => ({ n: i }))).ok, true);
});

test('deeply nested subschemas are refused before ajv recurses over them', () => {
  const nest = (levels: number) => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < levels; i++) schema = { properties: { a: schema } };
    return schema;
  };
  assert.equal(jsonSchemaProblem(nest(MAX_SCHEMA_DEPTH)), undefined);
  const deep = jsonSchemaProblem(nest(900));
  assert.match(deep?.message ?? '', /nested more than 64 deep/);
  assert.deepEqual(deep?.path, Array.from({ length: MAX_SCHEMA_DEPTH + 1 }, () => ['properties', 'a']).flat());
});

test("properties named like Object.prototype's are the payload's own or absent, never inherited", () => {
  const typed = { type: 'object', properties: { constructor: { type: 'string' }, hasOwnProperty: { type: 'string' } } };
  assert.deepEqual(validatePayload(typed, {}), { ok: true });
  assert.equal(validatePayload(typed, { constructor: 1 }).ok, false);
  const required = { type: 'object', required: ['toString'] };
  assert.equal(validatePayload(required, {}).ok, false);
  assert.deepEqual(validatePayload(required, { toString: 'x' }), { ok: true });
});

test('a $ref to itself, or to a key the document does not own, is refused by name before ajv compiles it', () => {
  assert.deepEqual(jsonSchemaProblem({ type: 'object', properties: { a: { $ref: '#/properties/a' } } }), {
    path: ['properties', 'a'],
    message: 'A $ref leads back to a schema of the same value: validating would never end.',
  });
  for (const ref of ['#/properties/__proto__', '#/definitions/constructor']) {
    const problem = jsonSchemaProblem({ type: 'object', properties: { c: { $ref: ref } } });
    assert.deepEqual(problem?.path, ['properties', 'c', '$ref'], ref);
    assert.match(problem!.message, /Only \$refs to a subschema of this document/);
  }
});

test('a $ref is resolved as ajv resolves it (split, then decoded): an escaped slash cannot point the analysis elsewhere', () => {
  // What ajv runs for `#/$defs/a%2Fb` is $defs["a/b"]; a doubling chain behind it must be counted, not $defs.a.b.
  const $defs: Record<string, unknown> = { a: { b: {} }, d20: {} };
  $defs['a/b'] = { allOf: [{ $ref: '#/$defs/d1' }, { $ref: '#/$defs/d1' }] };
  for (let i = 1; i < 20; i++) $defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  const problem = jsonSchemaProblem({ type: 'array', items: { $ref: '#/$defs/a%2Fb' }, $defs });
  assert.match(problem?.message ?? '', /More than \d+ subschemas would apply to one value/);
  const looping = jsonSchemaProblem({ $defs: { 'a/b': { $ref: '#/$defs/a%2Fb' } }, $ref: '#/$defs/a%2Fb' });
  assert.match(looping?.message ?? '', /A \$ref leads back to a schema of the same value/);
});
