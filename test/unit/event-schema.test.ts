import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEventSchema, camelCase } from '../../src/domain/event-schema.js';
import { checkPayloadQuery, shapePayload } from '../../src/domain/payload-query.js';
import { WorkMeter } from '../../src/domain/work-meter.js';

test('event type names camel-case into root fields', () => {
  assert.equal(camelCase('order.created'), 'orderCreated');
  assert.equal(camelCase('billing.invoice-paid_v2'), 'billingInvoicePaidV2');
});

test('names that collide get _2, _3 in event type name order, whatever order the types come in', () => {
  const types = [
    { name: 'order_created', schema: { type: 'object', properties: { b: { type: 'string' } } } },
    { name: 'order', schema: { type: 'object', properties: { created: { type: 'object', properties: { c: { type: 'integer' } } } } } },
    { name: 'order.created', schema: { type: 'object', properties: { a: { type: 'string' } } } },
  ];
  const one = buildEventSchema(types);
  const two = buildEventSchema([...types].reverse());
  assert.equal(one.sdl, two.sdl);
  assert.equal(one.fieldOf.get('order.created'), 'orderCreated');
  assert.equal(one.fieldOf.get('order_created'), 'orderCreated_2');
  // `order`'s nested `created` object would be OrderCreated, which order.created's own type holds.
  assert.match(one.sdl, /order: Order!/);
  assert.match(one.sdl, /type Order \{\n\s+created: OrderCreated_3\n/);
  assert.match(one.sdl, /orderCreated: OrderCreated!/);
  assert.match(one.sdl, /orderCreated_2: OrderCreated_2!/);
});

test('what the mapping cannot type is JSON; recursion stops at JSON; integers beyond 32 bits are Float', () => {
  const { sdl } = buildEventSchema([
    {
      name: 'tree.grown',
      schema: {
        type: 'object',
        $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' }, label: { type: 'string' } } } },
        properties: {
          root: { $ref: '#/$defs/node' },
          either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
          'bad-name': { type: 'object', properties: { 'x-y': { type: 'string' } } },
          big: { type: 'integer', maximum: 2 ** 40 },
          small: { type: 'integer', minimum: 0, maximum: 100 },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    { name: 'free.form' },
  ]);
  assert.match(sdl, /treeGrown: JSON!/); // a property name GraphQL cannot spell makes the whole object JSON
  assert.match(sdl, /freeForm: JSON!/);
  const nested = buildEventSchema([
    { name: 'tree.grown', schema: { type: 'object', $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' }, label: { type: 'string' } } } }, properties: { root: { $ref: '#/$defs/node' }, big: { type: 'integer', maximum: 2 ** 40 }, small: { type: 'integer', maximum: 100 }, tags: { type: 'array', items: { type: 'string' } } } } },
  ]).sdl;
  assert.match(nested, /root: TreeGrownRoot\n/);
  assert.match(nested, /type TreeGrownRoot \{\n\s+child: JSON\n\s+label: String\n/);
  assert.match(nested, /big: Float/);
  assert.match(nested, /small: Int/);
  assert.match(nested, /tags: \[String!\]\n/);
});

test('shaping keeps response keys such as __proto__ as plain keys and never reads inherited properties', () => {
  const schema = buildEventSchema([{ name: 'a.b', schema: { type: 'object', properties: { constructor: { type: 'string' }, x: { type: 'string' } } } }]);
  const check = checkPayloadQuery('subscription { aB { constructor x y: x } }', schema, ['*']);
  assert.ok(check.ok, check.ok ? '' : check.message);
  const data = shapePayload(check.plan['a.b']!, JSON.parse('{"x":"1"}'), new WorkMeter(1000));
  assert.equal(JSON.stringify(data), '{"constructor":null,"x":"1","y":"1"}');
});

/** `fragment F1 on X { ...F0 ...F0 }` … `fragment F<levels> …`, spread `spreads` times: 2^levels fields per spread once expanded. */
function doublingFragments(type: string, field: string, levels: number, spreads: number): string {
  const fragments = [`fragment F0 on ${type} { ${field} }`];
  for (let i = 1; i <= levels; i++) fragments.push(`fragment F${i} on ${type} { ...F${i - 1} ...F${i - 1} }`);
  return `subscription { aB { ${Array.from({ length: spreads }, () => `...F${levels}`).join(' ')} } } ${fragments.join(' ')}`;
}

test('fragments that double at every level are refused at the field limit, not expanded', () => {
  const schema = buildEventSchema([{ name: 'a.b', schema: { type: 'object', properties: { x: { type: 'string' } } } }]);
  for (const levels of [16, 17, 40]) {
    const check = checkPayloadQuery(doublingFragments('AB', 'x', levels, 400), schema, ['*']);
    assert.deepEqual(check, { ok: false, message: 'The payload query selects more than 500 fields (fragments counted where they are spread).' });
  }
  // So many fields that graphql-js gives up comparing them: the same limit.
  const repeated = checkPayloadQuery(`subscription { aB { ${Array(2400).fill('x').join(' ')} } }`, schema, ['*']);
  assert.deepEqual(repeated, { ok: false, message: 'The payload query selects more than 500 fields (fragments counted where they are spread).' });
  // Fragments that expand to nothing (every field skipped) cost their visits all the same.
  const skipped = checkPayloadQuery(doublingFragments('AB', 'x @skip(if: true)', 30, 10), schema, ['*']);
  assert.equal(skipped.ok, false);
});

test('a query nested deeper than the parser could follow is refused with the depth limit', () => {
  const schema = buildEventSchema([{ name: 'a.b', schema: { type: 'object', properties: { x: { type: 'string' } } } }]);
  for (const levels of [18, 1500, 2400]) {
    const check = checkPayloadQuery(`subscription { aB ${'{ x '.repeat(levels)}${'}'.repeat(levels)} }`, schema, ['*']);
    assert.deepEqual(check, { ok: false, message: 'The payload query nests deeper than 16 levels.' }, `${levels} levels`);
  }
  // Values nest too (a directive's argument).
  const list = checkPayloadQuery(`subscription { aB { x @include(if: ${'['.repeat(2000)}${']'.repeat(2000)}) } }`, schema, ['*']);
  assert.deepEqual(list, { ok: false, message: 'The payload query nests deeper than 16 levels.' });
  // Braces in strings and comments are not nesting.
  const commented = checkPayloadQuery(`subscription { aB { x } } # ${'{'.repeat(100)}`, schema, ['*']);
  assert.ok(commented.ok);
});

test('a root field typed JSON, selected without a sub-selection, shapes to the whole payload', () => {
  const schema = buildEventSchema([{ name: 'user.signed_up' }, { name: 'a.b', schema: { type: 'object', properties: { x: { type: 'string' } } } }]);
  const check = checkPayloadQuery('subscription A { userSignedUp } subscription B { aB { x } }', schema, ['*']);
  assert.ok(check.ok, check.ok ? '' : check.message);
  assert.equal(check.plan['user.signed_up'], null);
  assert.ok('user.signed_up' in check.plan);
  assert.deepEqual(check.plan['a.b'], [{ key: 'x', field: 'x' }]);
  // Still subject to the subscription's patterns.
  const unmatched = checkPayloadQuery('subscription { userSignedUp }', schema, ['a.*']);
  assert.equal(unmatched.ok, false);
});
