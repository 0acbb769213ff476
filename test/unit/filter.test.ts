import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter, FILTER_LIMITS, InvalidFilterError, validateFilter } from '../../src/domain/filter.js';
import { OverBudget, WorkMeter } from '../../src/domain/work-meter.js';

const order = {
  amount: 150,
  currency: 'EUR',
  country: 'AT',
  customer: { email: 'Ann@Example.com', tags: ['vip', 'b2b'], address: { city: 'Wien' } },
  items: [
    { sku: 'A-1', qty: 2, price: 10 },
    { sku: 'B-7', qty: 1, price: 130 },
  ],
  note: null,
};

const matches = (filter: unknown, payload: unknown = order) => compileFilter(filter)(payload);

test('no filter and the empty filter match everything', () => {
  assert.equal(matches(null), true);
  assert.equal(matches(undefined), true);
  assert.equal(matches({}), true);
});

test('the issue example: $gte with an $or of equality and $in', () => {
  const filter = { amount: { $gte: 100 }, $or: [{ country: 'DE' }, { country: { $in: ['AT', 'CH'] } }] };
  assert.deepEqual(validateFilter(filter), []);
  assert.equal(matches(filter), true);
  assert.equal(matches(filter, { ...order, amount: 99 }), false);
  assert.equal(matches(filter, { ...order, country: 'FR' }), false);
  assert.equal(matches(filter, { ...order, country: 'DE' }), true);
});

test('comparison operators compare like types only', () => {
  assert.equal(matches({ amount: { $gt: 149, $lt: 151 } }), true);
  assert.equal(matches({ amount: { $gt: 150 } }), false);
  assert.equal(matches({ amount: { $lte: 150 } }), true);
  assert.equal(matches({ amount: { $gt: '100' } }), false, 'number vs string never compares');
  assert.equal(matches({ currency: { $gte: 'EUA', $lt: 'EUS' } }), true);
  assert.equal(matches({ amount: { $eq: 150 }, currency: { $neq: 'USD' } }), true);
  assert.equal(matches({ amount: { $ne: 150 } }), false, '$ne is an alias of $neq');
});

test('literal equality is deep, on objects and arrays', () => {
  assert.equal(matches({ 'customer.address': { city: 'Wien' } }), true);
  assert.equal(matches({ 'customer.address': { city: 'Wien', zip: '1010' } }), false);
  assert.equal(matches({ 'customer.tags': ['vip', 'b2b'] }), true);
  assert.equal(matches({ 'customer.tags': ['b2b', 'vip'] }), false);
  assert.equal(matches({ note: null }), true);
});

test('dotted paths walk objects and arrays', () => {
  assert.equal(matches({ 'customer.address.city': 'Wien' }), true);
  assert.equal(matches({ 'items.1.sku': 'B-7' }), true);
  assert.equal(matches({ 'items.0.sku': 'B-7' }), false);
  assert.equal(matches({ 'items.sku': 'B-7' }), true, 'a name segment looks into every element');
  assert.equal(matches({ 'items.price': { $gt: 100 } }), true);
  assert.equal(matches({ 'items.price': { $gt: 200 } }), false);
  assert.equal(matches({ 'customer.tags': 'vip' }), true, 'equality against an array matches an element');
  assert.equal(matches({ 'items.9.sku': { $exists: true } }), false);
});

test('$in, $nin, $exists', () => {
  assert.equal(matches({ currency: { $in: ['USD', 'EUR'] } }), true);
  assert.equal(matches({ currency: { $nin: ['USD', 'EUR'] } }), false);
  assert.equal(matches({ missing: { $nin: ['x'] } }), true, 'a missing field is in no list');
  assert.equal(matches({ missing: { $neq: 'x' } }), true);
  assert.equal(matches({ missing: { $exists: false } }), true);
  assert.equal(matches({ note: { $exists: true } }), true, 'null is present');
  assert.equal(matches({ 'customer.tags': { $in: ['b2b'] } }), true);
});

test('$regex with options', () => {
  assert.equal(matches({ 'customer.email': { $regex: '@example\\.com$' } }), false);
  assert.equal(matches({ 'customer.email': { $regex: '@example\\.com$', $options: 'i' } }), true);
  assert.equal(matches({ 'items.sku': { $regex: '^B-' } }), true);
  assert.equal(matches({ amount: { $regex: '1' } }), false, 'regex only applies to strings');
});

test('$and, $or, $not at the top level and $not inside a field', () => {
  assert.equal(matches({ $and: [{ currency: 'EUR' }, { amount: { $gt: 100 } }] }), true);
  assert.equal(matches({ $or: [{ currency: 'USD' }, { amount: { $lt: 100 } }] }), false);
  assert.equal(matches({ $not: { currency: 'USD' } }), true);
  assert.equal(matches({ currency: { $not: { $in: ['EUR'] } } }), false);
  assert.equal(matches({ $not: { $or: [{ country: 'AT' }, { country: 'CH' }] } }), false);
});

test('values of the wrong shape do not match and do not throw', () => {
  const filter = compileFilter({ 'a.b.c': { $gt: 1 }, 'x.0': 'y' });
  for (const payload of [null, 42, 'text', [], [1, 2], { a: 'str' }, { a: { b: [null, 1, { c: 'x' }] } }, { x: 'yes' }]) {
    assert.equal(filter(payload), false, JSON.stringify(payload));
  }
});

test('prototype keys are not reachable through paths', () => {
  assert.equal(matches({ 'constructor.name': 'Object' }, {}), false);
  assert.equal(matches({ __proto__: { $exists: true } } as unknown as object, {}), true, 'a literal __proto__ key sets the prototype, not a condition');
  assert.equal(matches({ 'a.__proto__': { $exists: true } }, { a: {} }), false);
  assert.equal(matches({ 'a.toString': { $exists: true } }, { a: {} }), false);
});

function problemAt(filter: unknown): { path: string; message: string } {
  const problems = validateFilter(filter);
  assert.ok(problems.length > 0, "expected a problem");
  return { path: problems[0].path.join('/'), message: problems[0].message };
}

test('validation names the path of an unknown operator', () => {
  assert.deepEqual(problemAt({ $or: [{ country: 'DE' }, { country: { $within: ['AT'] } }] }).path, '$or/1/country/$within');
  assert.deepEqual(problemAt({ $nor: [] }).path, '$nor');
  assert.match(problemAt({ amount: { $gte: 1, currency: 'EUR' } }).message, /mixes a field name/);
  assert.match(problemAt({ amount: { $eq: { $gt: 1 } } }).message, /not allowed inside a literal/);
});

test('validation rejects malformed operands', () => {
  const cases: [unknown, string][] = [
    [[], ''],
    ['text', ''],
    [{ $and: [] }, '$and'],
    [{ $or: {} }, '$or'],
    [{ $not: [] }, '$not'],
    [{ a: { $in: 'x' } }, 'a/$in'],
    [{ a: { $gt: null } }, 'a/$gt'],
    [{ a: { $gt: {} } }, 'a/$gt'],
    [{ a: { $exists: 'yes' } }, 'a/$exists'],
    [{ a: { $regex: 7 } }, 'a/$regex'],
    [{ a: { $regex: 'x', $options: 'g' } }, 'a/$regex'],
    [{ a: { $options: 'i' } }, 'a/$options'],
    [{ a: { $not: 'x' } }, 'a/$not'],
    [{ 'a..b': 1 }, 'a..b'],
    [{ '': 1 }, ''],
  ];
  for (const [filter, path] of cases) assert.equal(problemAt(filter).path, path, JSON.stringify(filter));
  assert.throws(() => compileFilter({ a: { $within: 1 } }), InvalidFilterError);
});

test('hostile: catastrophic regexes run in linear time (RE2) or are refused', () => {
  const evil = compileFilter({ s: { $regex: '^(a+)+$' } });
  const started = performance.now();
  assert.equal(evil({ s: 'a'.repeat(50_000) + '!' }), false);
  assert.equal(compileFilter({ s: { $regex: '(x+x+)+y' } })({ s: 'x'.repeat(20_000) }), false);
  assert.ok(performance.now() - started < 5000, 'no catastrophic backtracking');
  assert.match(problemAt({ s: { $regex: '(a)\\1' } }).message, /does not compile/);
  assert.match(problemAt({ s: { $regex: '(?=a)a' } }).message, /does not compile/);
  assert.match(problemAt({ s: { $regex: 'a'.repeat(FILTER_LIMITS.maxRegexLength + 1) } }).message, /longer than/);
  assert.match(problemAt({ s: { $regex: '((a{100}){100}){100}' } }).message, /too complex|does not compile/);
});

test('hostile: depth, size and node limits', () => {
  let deep: Record<string, unknown> = { a: 1 };
  for (let i = 0; i < 50; i++) deep = { $not: deep };
  assert.match(problemAt(deep).message, /nested deeper/);
  let deepLiteral: unknown = 1;
  for (let i = 0; i < 50; i++) deepLiteral = [deepLiteral];
  assert.match(problemAt({ a: deepLiteral }).message, /nested deeper/);
  assert.match(problemAt({ a: { $in: Array.from({ length: 1000 }, (_, i) => i) } }).message, /at most/);
  assert.match(problemAt({ a: 'x'.repeat(FILTER_LIMITS.maxBytes) }).message, /larger than/);
  const wide = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, i]));
  assert.match(problemAt(wide).message, /more than/);
  assert.match(problemAt({ ['a.'.repeat(40) + 'b']: 1 }).message, /not a valid path/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(problemAt(cyclic).message, 'The filter is not JSON.');
  assert.throws(() => compileFilter(cyclic), InvalidFilterError);
});

test('hostile: deep and wide payloads evaluate without blowing the stack', () => {
  let nested: unknown = { v: 1 };
  for (let i = 0; i < 10_000; i++) nested = [nested];
  const filter = compileFilter({ a: { b: 1 }, 'a.v': 1 });
  assert.equal(filter({ a: nested }), false);
  const wide = { items: Array.from({ length: 50_000 }, (_, i) => ({ sku: `S-${i}` })) };
  assert.equal(compileFilter({ 'items.sku': 'S-49999' })(wide), true);
  assert.equal(compileFilter({ 'items.sku': { $regex: '^X' } })(wide), false);
});

test('hostile: at most 16 $regex per filter, and strings over 4096 characters do not match one', () => {
  const regexes = (n: number) => ({ $and: Array.from({ length: n }, (_, i) => ({ [`f${i}`]: { $regex: 'a' } })) });
  assert.deepEqual(validateFilter(regexes(FILTER_LIMITS.maxRegexes)), []);
  const problems = validateFilter(regexes(FILTER_LIMITS.maxRegexes + 1));
  assert.equal(problems.length, 1);
  assert.deepEqual(problems[0].path, ['$and', '16', 'f16', '$regex']);
  const longest = 'a'.repeat(FILTER_LIMITS.maxRegexInput - 6) + 'needle';
  assert.equal(matches({ s: { $regex: 'needle$' } }, { s: longest }), true);
  assert.equal(matches({ s: { $regex: '^a' } }, { s: longest + 'x' }), false, 'one character more and it is not tested');
  assert.equal(matches({ s: { $not: { $regex: '^a' } } }, { s: longest + 'x' }), true);
});

test('hostile: evaluation charges its meter and stops past the limit', () => {
  const filter = compileFilter({ items: { $in: Array.from({ length: 256 }, (_, i) => `s${i}`) } });
  const small = new WorkMeter(Infinity);
  assert.equal(filter({ items: ['s3'] }, small), true);
  assert.ok(small.units > 256 && small.units < 1000, `${small.units} units for one value`);
  const big = { items: new Array(40_000).fill(0) };
  const metered = new WorkMeter(Infinity);
  assert.equal(filter(big, metered), false);
  assert.ok(metered.units > 40_000 * 256, `${metered.units} units for 40,000 values`);
  assert.throws(() => filter(big, new WorkMeter(1_000_000)), OverBudget);
  // Regexes are charged by the length they read (capped), objects by their size.
  const regexMeter = new WorkMeter(Infinity);
  compileFilter({ s: { $regex: 'x' } })({ s: 'a'.repeat(FILTER_LIMITS.maxRegexInput) }, regexMeter);
  assert.ok(regexMeter.units >= 5 * FILTER_LIMITS.maxRegexInput && regexMeter.units < 6 * FILTER_LIMITS.maxRegexInput, `${regexMeter.units}`);
  const many = { items: new Array(131_072).fill('x') };
  assert.equal(compileFilter({ items: 'x' })(many), true, 'a huge array is walked without spreading it into arguments');
});
