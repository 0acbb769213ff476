import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateSchema } from 'graphql';
import { buildEventSchema, camelCase, typeNamePart } from '../../src/domain/event-schema.js';
import { SYSTEM_EVENT_TYPES } from '../../src/domain/operational-events.js';
import { checkPayloadQuery, ShapedTooLarge, shapePayload } from '../../src/domain/payload-query.js';
import { WorkMeter } from '../../src/domain/work-meter.js';

test('event type names camel-case into root fields', () => {
  assert.equal(camelCase('order.created'), 'orderCreated');
  assert.equal(camelCase('billing.invoice-paid_v2'), 'billingInvoicePaidV2');
});

test('names that collide get _2, _3 in creation order (name order for ties), whatever order the types come in', () => {
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
  // Each event type takes its names in turn: `order` came first, so its nested `created` object keeps OrderCreated.
  assert.match(one.sdl, /order: Order!/);
  assert.match(one.sdl, /type Order \{\n\s+created: OrderCreated\n/);
  assert.match(one.sdl, /orderCreated: OrderCreated_2!/);
  assert.match(one.sdl, /orderCreated_2: OrderCreated_3!/);
});

test('a type created later that collides takes the suffix: the names of existing types never move', () => {
  const existing = [
    { name: 'order.created', createdAt: new Date('2026-01-02T00:00:00Z'), schema: { type: 'object', properties: { customer: { type: 'object', properties: { email: { type: 'string' } } } } } },
    { name: 'order', createdAt: new Date('2026-01-03T00:00:00Z'), schema: { type: 'object', properties: { created: { type: 'object', properties: { c: { type: 'integer' } } } } } },
  ];
  const before = buildEventSchema(existing);
  // `order-created` sorts before `order.created` and its nested type would be OrderCreatedCustomer too.
  const later = { name: 'order-created', createdAt: new Date('2026-01-04T00:00:00Z'), schema: { type: 'object', properties: { customer: { type: 'object', properties: { name: { type: 'string' } } } } } };
  const after = buildEventSchema([later, ...existing]);
  assert.equal(before.fieldOf.get('order.created'), 'orderCreated');
  assert.equal(after.fieldOf.get('order.created'), 'orderCreated');
  assert.equal(after.fieldOf.get('order-created'), 'orderCreated_2');
  for (const sdl of [before.sdl, after.sdl]) {
    assert.match(sdl, /orderCreated: OrderCreated!/);
    assert.match(sdl, /type OrderCreated \{\n\s+customer: OrderCreatedCustomer\n/);
    assert.match(sdl, /type OrderCreatedCustomer \{\n\s+email: String\n/);
    assert.match(sdl, /type Order \{\n\s+created: OrderCreated_2\n/);
  }
  assert.match(after.sdl, /orderCreated_2: OrderCreated_3!/);
  assert.match(after.sdl, /type OrderCreated_3 \{\n\s+customer: OrderCreated_3Customer\n/);
  // Every object type of before is in after as it was: the new schema only adds.
  const objectTypes = (sdl: string) => sdl.split(/\n(?=type )/).filter((block) => !block.startsWith('type Subscription'));
  assert.ok(objectTypes(before.sdl).length >= 4);
  for (const block of objectTypes(before.sdl).slice(1)) assert.ok(after.sdl.includes(block.trim()), block);
});

test('an archived type is left out but keeps its names: the later type keeps its suffix, restoring renames nothing', () => {
  const first = { name: 'order.created', createdAt: '2026-01-01T00:00:00Z', schema: { type: 'object', properties: { id: { type: 'string' } } } };
  const second = { name: 'order-created', createdAt: '2026-01-02T00:00:00Z', schema: { type: 'object', properties: { id: { type: 'string' } } } };
  const both = buildEventSchema([first, second]);
  const archived = buildEventSchema([{ ...first, archived: true }, second]);
  assert.equal(archived.fieldOf.get('order-created'), 'orderCreated_2');
  assert.equal(archived.fieldOf.has('order.created'), false);
  assert.equal(archived.eventTypeOf.has('orderCreated'), false);
  assert.match(archived.sdl, /orderCreated_2: OrderCreated_2!/);
  assert.doesNotMatch(archived.sdl, /orderCreated:|type OrderCreated \{/);
  assert.equal(buildEventSchema([second, first]).sdl, both.sdl);
  // Only archived types: no Subscription root at all.
  assert.doesNotMatch(buildEventSchema([{ ...first, archived: true }]).sdl, /Subscription/);
});

test("a tenant type that camel-cases like a system type takes the suffix, whenever it was created", () => {
  const tenantType = { name: 'hookgraph-delivery.failed', createdAt: new Date('2000-01-01T00:00:00Z'), schema: { type: 'object', properties: { x: { type: 'string' } } } };
  const { fieldOf, sdl } = buildEventSchema([tenantType, ...SYSTEM_EVENT_TYPES]);
  assert.equal(fieldOf.get('hookgraph.delivery.failed'), 'hookgraphDeliveryFailed');
  assert.equal(fieldOf.get('hookgraph-delivery.failed'), 'hookgraphDeliveryFailed_2');
  assert.match(sdl, /hookgraphDeliveryFailed: HookgraphDeliveryFailed!/);
  assert.match(sdl, /hookgraphDeliveryFailed_2: HookgraphDeliveryFailed_2!/);
});

test('every property name the mapping accepts gives a valid type name, and the schema builds', () => {
  const child = { type: 'object', properties: { v: { type: 'string' } } };
  const input = [
    { name: 'odd.names', schema: { type: 'object', properties: { _: child, _1: child, _1_: child, a_: child, _a: child, x__y: child, A: child, a: child } } },
    { name: 'rejected.names', schema: { type: 'object', properties: { __x: child } } },
    { name: 'unicode.names', schema: { type: 'object', properties: { ünï: child } } },
    { name: 'only.underscore', schema: { type: 'object', required: ['_'], properties: { _: { type: 'string' } } } },
  ];
  const { schema, sdl } = buildEventSchema(input);
  assert.deepEqual(validateSchema(schema), []);
  assert.match(sdl, /type OddNames \{\n\s+_: OddNames_\n\s+_1: OddNames1\n\s+_1_: OddNames1_2\n\s+a_: OddNamesA\n\s+_a: OddNamesA_2\n\s+x__y: OddNamesXY\n\s+A: OddNamesA_3\n\s+a: OddNamesA_4\n/);
  assert.match(sdl, /rejectedNames: JSON!/);
  assert.match(sdl, /unicodeNames: JSON!/);
  assert.match(sdl, /type OnlyUnderscore \{\n\s+_: String!\n/);
  // The same input, the same names.
  assert.equal(buildEventSchema([...input].reverse()).sdl, sdl);
});

test('type name parts stay GraphQL names for any text', () => {
  for (const text of ['_', '__', '_1', '123', '__x', 'ünï', '-', '', 'a.b', '9lives', 'x_ä_y']) {
    const part = typeNamePart(text);
    assert.match(part, /^[_0-9A-Za-z]+$/, text);
    assert.match(`T${part}`, /^[_A-Za-z][_0-9A-Za-z]*$/, text);
    assert.equal(typeNamePart(text), part);
  }
});

test('required enum and const fields are non-null; a $ref field carries its definition\'s description', () => {
  const { sdl } = buildEventSchema([
    {
      name: 'order.shipped',
      schema: {
        type: 'object',
        $defs: { address: { type: 'object', description: 'Where it goes.', properties: { city: { type: 'string' } } }, carrier: { description: 'Who carries it.', enum: ['ups', 'dhl'] } },
        required: ['state', 'kind', 'carrier', 'maybe'],
        properties: {
          state: { enum: ['NEW', 'DONE'] },
          kind: { const: 'shipment' },
          optionalState: { enum: ['A', 'B'] },
          maybe: { enum: ['A', null] },
          carrier: { $ref: '#/$defs/carrier' },
          to: { $ref: '#/$defs/address' },
          from: { $ref: '#/$defs/address', description: 'Where it came from.' },
        },
      },
    },
  ]);
  assert.match(sdl, /\n\s+state: String!\n/);
  assert.match(sdl, /\n\s+kind: String!\n/);
  assert.match(sdl, /\n\s+optionalState: String\n/);
  assert.match(sdl, /\n\s+maybe: JSON\n/);
  assert.match(sdl, /"""Who carries it\."""\n\s+carrier: String!\n/);
  assert.match(sdl, /"""Where it goes\."""\n\s+to: OrderShippedAddress\n/);
  assert.match(sdl, /"""Where it came from\."""\n\s+from: OrderShippedAddress\n/);
  // One type for the definition, whichever property reaches it.
  assert.equal(sdl.match(/^type OrderShippedAddress /gm)?.length, 1);
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
  assert.match(nested, /root: TreeGrownNode\n/);
  assert.match(nested, /type TreeGrownNode \{\n\s+child: JSON\n\s+label: String\n/);
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

/** An object schema nesting `levels` objects deep: each level has `x` and, but the last, `c` (the next level). */
function chain(levels: number): object {
  return { type: 'object', properties: { x: { type: 'string' }, ...(levels > 1 ? { c: chain(levels - 1) } : {}) } };
}

/** `subscription { aB { … } }` selecting `levels` levels of `chain`, each level's fields inside an inline fragment when `inline`. */
function nestedQuery(levels: number, inline: boolean): string {
  const level = (n: number): string => {
    const fields = n > 1 ? `x c { ${level(n - 1)} }` : 'x';
    return inline ? `... @include(if: true) { ${fields} }` : fields;
  };
  return `subscription { aB { ${level(levels)} } }`;
}

test('a query nested deeper than the parser could follow is refused with the brace limit', () => {
  const schema = buildEventSchema([{ name: 'a.b', schema: { type: 'object', properties: { x: { type: 'string' } } } }]);
  const braces = 'The payload query nests braces and brackets deeper than 128 levels, more than is parsed (selections nest at most 16).';
  for (const levels of [128, 1500, 2400]) {
    const check = checkPayloadQuery(`subscription { aB ${'{ x '.repeat(levels)}${'}'.repeat(levels)} }`, schema, ['*']);
    assert.deepEqual(check, { ok: false, message: braces }, `${levels} levels`);
  }
  // Values nest too (a directive's argument).
  const list = checkPayloadQuery(`subscription { aB { x @include(if: ${'['.repeat(2000)}${']'.repeat(2000)}) } }`, schema, ['*']);
  assert.deepEqual(list, { ok: false, message: braces });
  // Braces in strings and comments are not nesting.
  const commented = checkPayloadQuery(`subscription { aB { x } } # ${'{'.repeat(200)}`, schema, ['*']);
  assert.ok(commented.ok);
});

test('selections nest 16 levels at most; inline fragments add braces, not levels', () => {
  const schema = buildEventSchema([{ name: 'a.b', schema: chain(20) }]);
  for (const inline of [false, true]) {
    for (const levels of [9, 16]) {
      const check = checkPayloadQuery(nestedQuery(levels, inline), schema, ['*']);
      assert.ok(check.ok, `${levels} levels${inline ? ', inline fragments' : ''}: ${check.ok ? '' : check.message}`);
    }
    assert.deepEqual(checkPayloadQuery(nestedQuery(17, inline), schema, ['*']), { ok: false, message: 'The payload query nests deeper than 16 levels.' });
  }
  // Nine levels with an inline fragment at each shape as nine levels.
  const check = checkPayloadQuery(nestedQuery(9, true), schema, ['*']);
  assert.ok(check.ok);
  let data = shapePayload(check.plan['a.b']!, chainPayload(9), new WorkMeter(1000)) as { x: string; c?: unknown };
  for (let n = 9; n > 1; n--) data = data.c as { x: string; c?: unknown };
  assert.equal(data.x, 'x1');
});

function chainPayload(levels: number): object {
  return { x: `x${levels}`, ...(levels > 1 ? { c: chainPayload(levels - 1) } : {}) };
}

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

/** Definitions d0..d(levels-1), each with `width` properties referring to the next: a DAG with width^levels paths. */
function refFan(width: number, levels: number): unknown {
  const definitions: Record<string, unknown> = {};
  const props = (target: string) => Object.fromEntries(Array.from({ length: width }, (_, i) => [`p${i}`, { $ref: `#/definitions/${target}` }]));
  for (let level = 0; level < levels; level++) definitions[`d${level}`] = { type: 'object', properties: props(`d${level + 1}`) };
  definitions[`d${levels}`] = { type: 'object', properties: { x: { type: 'string' } } };
  return { type: 'object', properties: props('d0'), definitions };
}

test('a $ref target is one GraphQL type however many paths reach it, so a small schema cannot build an exponential one', () => {
  const { schema, sdl } = buildEventSchema([{ name: 'fan', schema: refFan(4, 9) }]);
  assert.deepEqual(validateSchema(schema), []);
  const generated = Object.keys(schema.getTypeMap()).filter((name) => name.startsWith('Fan'));
  assert.deepEqual(generated.sort(), ['Fan', ...Array.from({ length: 10 }, (_, i) => `FanD${i}`)].sort(), generated.join(', '));
  assert.ok(sdl.length < 5_000, `${sdl.length} characters of SDL`);
  // Shaping follows the shared types down to the leaf.
  const check = checkPayloadQuery('subscription { fan { p0 { p3 { p1 { p0 { p0 { p0 { p0 { p0 { p2 { p0 { x } } } } } } } } } } } }', buildEventSchema([{ name: 'fan', schema: refFan(4, 9) }]), ['fan']);
  assert.equal(check.ok, true, check.ok ? '' : check.message);
});

test('an event type whose mapping would build more than 5,000 fields is JSON, and the other types are unaffected', () => {
  const level = (depth: number): unknown =>
    depth === 0 ? { type: 'string' } : { type: 'object', properties: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, level(depth - 1)])) };
  const { schema } = buildEventSchema([
    { name: 'wide', schema: level(3) },
    { name: 'small', schema: { type: 'object', properties: { id: { type: 'string' } } } },
  ]);
  const fields = schema.getSubscriptionType()!.getFields();
  assert.equal(String(fields.wide.type), 'JSON!');
  assert.equal(String(fields.small.type), 'Small!');
});

test('a selection that @skip/@include leave without any field is refused: no plan holds an empty selection', () => {
  const schema = buildEventSchema([{ name: 'order.created', schema: { type: 'object', properties: { id: { type: 'string' }, customer: { type: 'object', properties: { name: { type: 'string' } } } } } }]);
  const cases: [string, string][] = [
    ['subscription { orderCreated { id @skip(if: true) } }', 'orderCreated'],
    ['subscription { orderCreated { ... on OrderCreated @include(if: false) { id } } }', 'orderCreated'],
    ['subscription { orderCreated { ...F } } fragment F on OrderCreated { id @include(if: false) }', 'orderCreated'],
    ['subscription { orderCreated { id who: customer { name @skip(if: true) } } }', 'orderCreated.who'],
  ];
  for (const [query, path] of cases) {
    assert.deepEqual(
      checkPayloadQuery(query, schema, ['*']),
      { ok: false, message: `The payload query selects no field of ${path}: @skip or @include leaves out every field there. Select one, or leave out ${path} itself.` },
      query,
    );
  }
  // Skipping the field itself, or some of the fields, is fine.
  const some = checkPayloadQuery('subscription { orderCreated { id customer @skip(if: true) { name } } }', schema, ['*']);
  assert.deepEqual(some, { ok: true, plan: { 'order.created': [{ key: 'id', field: 'id' }] } });
});

test('typeNamesOf lists the type names each event type took, so a change that moves a later type\'s names shows', () => {
  const at = (n: number) => new Date(Date.UTC(2026, 0, n));
  const later = { name: 'order.created', schema: { type: 'object', properties: { customer: { type: 'object', properties: { id: { type: 'string' } } } } }, createdAt: at(2) };
  const before = buildEventSchema([{ name: 'order', schema: { type: 'object', properties: { id: { type: 'string' } } }, createdAt: at(1) }, later]);
  assert.deepEqual(before.typeNamesOf.get('order'), ['Order']);
  assert.deepEqual(before.typeNamesOf.get('order.created'), ['OrderCreated', 'OrderCreatedCustomer']);
  const after = buildEventSchema([{ name: 'order', schema: { type: 'object', properties: { created: { type: 'object', properties: { at: { type: 'string' } } } } }, createdAt: at(1) }, later]);
  assert.deepEqual(after.typeNamesOf.get('order'), ['Order', 'OrderCreated']);
  assert.deepEqual(after.typeNamesOf.get('order.created'), ['OrderCreated_2', 'OrderCreated_2Customer']);
});

test('shaped data is measured in serialized UTF-8 bytes: escapes and multi-byte characters count as sent', () => {
  const schema = buildEventSchema([{ name: 'a.b', schema: { type: 'object', properties: { s: { type: 'string' } } } }]);
  const check = checkPayloadQuery('subscription { aB { s x: s y: s } }', schema, ['*']);
  assert.ok(check.ok);
  for (const text of ['\u0001'.repeat(1000), '€'.repeat(1000), '"'.repeat(1000), 'plain'.repeat(200)]) {
    const real = Buffer.byteLength(JSON.stringify(shapePayload(check.plan['a.b']!, { s: text }, new WorkMeter(1e9))));
    assert.throws(() => shapePayload(check.plan['a.b']!, { s: text }, new WorkMeter(1e9), real - 1), ShapedTooLarge, JSON.stringify(text.slice(0, 3)));
    assert.doesNotThrow(() => shapePayload(check.plan['a.b']!, { s: text }, new WorkMeter(1e9), Math.ceil(real * 1.01)));
  }
});

test('a $ref built while cut short by recursion is not reused where it would be whole', () => {
  const schema = buildEventSchema([
    {
      name: 'pair',
      schema: {
        type: 'object',
        $defs: {
          a: { type: 'object', properties: { b: { $ref: '#/$defs/b' }, n: { type: 'string' } } },
          b: { type: 'object', properties: { a: { $ref: '#/$defs/a' }, m: { type: 'string' } } },
        },
        properties: { x: { $ref: '#/$defs/a' }, y: { $ref: '#/$defs/b' } },
      },
    },
  ]);
  // Under x, b's `a` is recursion (JSON); under y, b is reached first and its `a` is a real type.
  const check = checkPayloadQuery('subscription { pair { y { a { n } } } }', schema, ['*']);
  assert.ok(check.ok, check.ok ? '' : check.message);
});
