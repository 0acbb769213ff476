import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import pg from 'pg';

/**
 * Hostile-input generation from the published schema: every root field of
 * schema/schema.graphql gets documents and variables built from its
 * arguments' types, so a new operation is fuzzed without editing a test.
 */
export function publishedSchema(): GraphQLSchema {
  return buildSchema(fs.readFileSync('schema/schema.graphql', 'utf8'));
}

/** JSON nested `depth` levels deep, written straight into the request text (JSON.stringify would overflow first). */
export class Deep {
  constructor(
    readonly depth: number,
    readonly shape: 'array' | 'object',
  ) {}
  json(): string {
    return this.shape === 'array' ? '['.repeat(this.depth) + ']'.repeat(this.depth) : '{"a":'.repeat(this.depth) + '1' + '}'.repeat(this.depth);
  }
  literal(): string {
    return this.shape === 'array' ? '['.repeat(this.depth) + ']'.repeat(this.depth) : '{a:'.repeat(this.depth) + '1' + '}'.repeat(this.depth);
  }
}

/** JSON text of a generated value; own `__proto__` keys are kept, Deep values are expanded. */
export function toJson(value: unknown): string {
  if (value instanceof Deep) return value.json();
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${toJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  // NaN/Infinity are not JSON; send them as the numbers JSON cannot hold.
  if (typeof value === 'number' && !Number.isFinite(value)) return '1e999';
  return JSON.stringify(value);
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** GraphQL literal of a generated value, for arguments written inline in the document. */
export function toLiteral(value: unknown, type: GraphQLInputType): string {
  if (value instanceof Deep) return value.literal();
  if (value === null || value === undefined) return 'null';
  const named = getNamedType(type);
  if (Array.isArray(value)) {
    const inner = isListType(isNonNullType(type) ? type.ofType : type) ? ((isNonNullType(type) ? type.ofType : type) as { ofType: GraphQLInputType }).ofType : type;
    return `[${value.map((v) => toLiteral(v, inner)).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const fields = isInputObjectType(named) ? named.getFields() : {};
    const parts = Object.keys(value)
      .filter((k) => NAME.test(k))
      .map((k) => `${k}: ${toLiteral((value as Record<string, unknown>)[k], fields[k]?.type ?? named)}`);
    return `{${parts.join(', ')}}`;
  }
  if (typeof value === 'string' && isEnumType(named) && NAME.test(value) && value !== 'true' && value !== 'false' && value !== 'null') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '1e999';
  return JSON.stringify(value);
}

/** Ids a case may name: the caller's own rows, another tenant's, and malformed ones. */
export interface IdPool {
  own: string[];
  other: string[];
  names: string[];
  /** Values that pass validation, by input field name: a case keeps most of them and makes a few leaves hostile. */
  good?: Record<string, unknown[]>;
}

const oddText = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDC00y',
  '\uDBFF',
  '\uD83D\uDE00',
  '\u202E\u0301\u200B',
  '\uFEFF',
  'Ω≈ç√∫',
  '%00',
  '\\u0000',
  "'; drop table event; --",
  '$1',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '../../etc/passwd',
  'http://127.0.0.1:1/hook',
  'http://169.254.169.254/latest',
  'order.*',
  '*',
  '**',
  '.',
  'a'.repeat(300),
  '0',
  '-1',
  'true',
  'null',
];

const hugeString = fc.constantFrom(200_000, 1_100_000).map((n) => 'x'.repeat(n));

export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...oddText) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\uD800', '\uDFFF')).map(([s, bad]) => s + bad + s) },
  { weight: 1, arbitrary: hugeString },
);

const hostileInt = fc.oneof(
  fc.integer({ min: -3, max: 150 }),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 31 - 1, 2 ** 53 + 2, -(2 ** 53), 1e308, Infinity, 0.5, -0),
);

const hostileDateTime = fc.oneof(
  fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00.000Z', '2026-02-30T00:00:00Z', 'yesterday', '2026-01-01T00:00:00\u0000Z', '1e308'),
);

function polluted(base: Record<string, unknown>): Record<string, unknown> {
  // JSON.parse makes `__proto__` an own key, as a hostile client's body would.
  return Object.assign(JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'), base);
}

export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.dictionary(hostileString, fc.oneof(hostileString, fc.integer(), fc.constant(null)), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map(polluted) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(65, 101, 1_000, 100_000), fc.constantFrom('array' as const, 'object' as const)).map(([d, s]) => new Deep(d, s)) },
  { weight: 1, arbitrary: fc.constantFrom(20_000, 200_000).map((n) => Array.from({ length: n }, (_, i) => i)) },
);

const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant({}), fc.constant([]), fc.constant(null), fc.string({ maxLength: 5 }), fc.double());

function idArbitrary(ids: IdPool) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ids.own) },
    { weight: 2, arbitrary: fc.constantFrom(...ids.other) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', `${ids.own[0]}\u0000`, ids.own[0].toUpperCase(), ` ${ids.own[0]}`) },
    { weight: 1, arbitrary: fc.integer() },
  );
}

function scalar(name: string, ids: IdPool): fc.Arbitrary<unknown> {
  switch (name) {
    case 'String':
      return fc.oneof({ weight: 3, arbitrary: hostileString }, { weight: 2, arbitrary: fc.constantFrom(...ids.names) });
    case 'ID':
      return idArbitrary(ids);
    case 'Int':
      return hostileInt;
    case 'Float':
      return fc.oneof(fc.double(), hostileInt);
    case 'Boolean':
      return fc.boolean();
    case 'DateTime':
      return hostileDateTime;
    case 'JSON':
      return hostileJson;
    default:
      return fc.oneof(hostileString, hostileJson);
  }
}

/** A value for an input type: mostly of the right shape with hostile leaves, sometimes of the wrong shape. */
export function valueFor(type: GraphQLInputType, ids: IdPool, depth = 0, name?: string): fc.Arbitrary<unknown> {
  const good = name ? ids.good?.[name] : undefined;
  if (good?.length) {
    const hostileLeaf = hostileJson.map((v) => (v instanceof Deep || typeof v !== 'object' ? { note: v } : v));
    const goodValue = fc.constantFrom(...good);
    return fc.oneof(
      { weight: 3, arbitrary: goodValue },
      // A good object with one hostile member (payloads, filters, headers, metadata).
      { weight: 2, arbitrary: fc.tuple(goodValue, fc.string({ maxLength: 6 }), hostileString).map(([g, k, v]) => (g && typeof g === 'object' && !Array.isArray(g) ? { ...g, [k || 'k']: v } : Array.isArray(g) ? [...g, v] : v)) },
      { weight: 1, arbitrary: typeof good[0] === 'object' ? hostileLeaf : hostileString },
      { weight: 2, arbitrary: valueFor(type, ids, depth) },
    );
  }
  const right = (): fc.Arbitrary<unknown> => {
    if (isNonNullType(type)) return valueFor(type.ofType, ids, depth);
    if (isListType(type)) {
      const item = valueFor(type.ofType, ids, depth + 1);
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(item, { maxLength: 3 }) },
        { weight: 1, arbitrary: item },
        // Long lists of small items (a long list of huge items would only test the body limit).
        { weight: 1, arbitrary: fc.tuple(item.filter((v) => toJson(v).length <= 64), fc.constantFrom(600, 20_000)).map(([v, n]) => Array.from({ length: n }, () => v)) },
      );
    }
    if (isEnumType(type)) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...type.getValues().map((v) => v.name)) }, { weight: 1, arbitrary: hostileString });
    if (isInputObjectType(type)) {
      if (depth > 3) return fc.constant({});
      const fields = Object.values(type.getFields());
      const shape = Object.fromEntries(fields.map((f) => [f.name, valueFor(f.type, ids, depth + 1, f.name)]));
      const required = fields.filter((f) => isNonNullType(f.type)).map((f) => f.name);
      const record = fc.record(shape, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>;
      return fc.oneof(
        { weight: 5, arbitrary: record },
        { weight: 1, arbitrary: fc.record(shape, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>> },
        { weight: 1, arbitrary: record.map(polluted) },
        { weight: 1, arbitrary: fc.tuple(record, fc.string({ maxLength: 8 }), hostileString).map(([r, k, v]) => ({ ...r, [k || 'extra']: v })) },
      );
    }
    return scalar(type.name, ids);
  };
  return fc.oneof({ weight: 12, arbitrary: right() }, { weight: 1, arbitrary: wrongType });
}

export interface Operation {
  kind: 'query' | 'mutation' | 'subscription';
  field: GraphQLField<unknown, unknown>;
}

/** Every root field of the schema; destructive mutations last, so the others see the fixtures. */
export function operations(schema: GraphQLSchema): Operation[] {
  const list: Operation[] = [];
  const roots: [Operation['kind'], GraphQLObjectType | null | undefined][] = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ];
  for (const [kind, root] of roots) for (const field of Object.values(root?.getFields() ?? {})) list.push({ kind, field });
  const destructive = (op: Operation) => /Delete|Revoke|Archive/.test(op.field.name);
  return [...list.filter((op) => !destructive(op)), ...list.filter(destructive)];
}

/** `{ __typename, every leaf field without required arguments, userErrors { … } }`. */
export function selection(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (!isObjectType(type)) return '';
  const parts = ['__typename'];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type))) continue;
    const inner = getNamedType(f.type);
    if (isLeafType(inner)) parts.push(f.name);
    else if (f.name === 'userErrors') parts.push('userErrors { field message code }');
    else if (isObjectType(inner)) parts.push(`${f.name} { __typename }`);
  }
  return `{ ${parts.join(' ')} }`;
}

export interface Case {
  document: string;
  /** JSON text of the request body. */
  body: string;
}

/** Cases for one operation: arguments as variables or written inline. */
export function casesFor(op: Operation, ids: IdPool): fc.Arbitrary<Case> {
  const args = op.field.args;
  const values = fc.tuple(...args.map((a) => fc.option(valueFor(a.type, ids, 0, a.name), { nil: undefined, freq: isNonNullType(a.type) ? 20 : 3 })));
  return fc.tuple(values, fc.boolean()).map(([vals, inline]) => {
    const select = selection(op.field);
    let document: string;
    let variables: Record<string, unknown> = {};
    if (inline) {
      const given = args.map((a, i) => [a, vals[i]] as const).filter(([, v]) => v !== undefined);
      const argText = given.length ? `(${given.map(([a, v]) => `${a.name}: ${toLiteral(v, a.type)}`).join(', ')})` : '';
      document = `${op.kind} Fuzz { ${op.field.name}${argText} ${select} }`;
    } else {
      const defs = args.length ? `(${args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
      const use = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
      document = `${op.kind} Fuzz${defs} { ${op.field.name}${use} ${select} }`;
      variables = Object.fromEntries(args.map((a, i) => [a.name, vals[i]]).filter(([, v]) => v !== undefined));
    }
    return { document, body: `{"query":${JSON.stringify(document)},"variables":${toJson(variables)}}` };
  });
}

export interface Answer {
  status: number;
  text: string;
  json?: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

export async function post(url: string, body: string, key?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body,
  });
  const text = await response.text();
  let json: Answer['json'];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

const STACK = /\n\s+at \S|\bat [\w.$<>]+ \((?:file|node):|node:internal|\.(?:js|ts):\d+:\d+/;
const SQL = /\b(?:select\s.+\sfrom|insert\s+into|delete\s+from|update\s+\S+\s+set)\b|violates\s|syntax error at or near|relation "|column "|invalid input syntax for|invalid byte sequence|unsupported Unicode escape/i;

/** What every answer must hold: no 5xx, no INTERNAL_SERVER_ERROR, no stack, no SQL. Returns a failure description or undefined. */
export function problemWith(answer: Answer): string | undefined {
  if (answer.status >= 500) return `status ${answer.status}: ${answer.text.slice(0, 300)}`;
  for (const error of answer.json?.errors ?? []) {
    if (error.extensions?.code === 'INTERNAL_SERVER_ERROR') return `INTERNAL_SERVER_ERROR: ${error.message.slice(0, 300)}`;
    if (error.extensions?.code === undefined) return `error without a code: ${error.message.slice(0, 300)}`;
    if (error.extensions?.stacktrace) return `stacktrace in extensions: ${error.message.slice(0, 200)}`;
  }
  if (STACK.test(answer.text)) return `stack text in the answer: ${answer.text.match(STACK)![0]} in ${answer.text.slice(0, 300)}`;
  if (SQL.test(answer.text)) return `SQL text in the answer: ${answer.text.match(SQL)![0]}`;
  return undefined;
}

/** True when the answer says the operation did nothing: an error without data, or userErrors. */
export function refused(answer: Answer, field: string): boolean {
  const payload = answer.json?.data?.[field] as { userErrors?: unknown[] } | null | undefined;
  if (payload?.userErrors?.length) return true;
  return !!answer.json?.errors?.length && (payload === null || payload === undefined);
}

/** Row counts of every table of the app's database, in one query. */
export async function rowCounter(databaseUrl: string): Promise<{ counts(): Promise<Record<string, number>>; close(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  // The database is dropped with (force) when the file ends.
  pool.on('error', () => undefined);
  const tables = await pool.query<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
  );
  assert.ok(tables.rows.length > 3, 'the app has tables to count');
  const sql = `select ${tables.rows.map((t, i) => `(select count(*) from "${t.schema}"."${t.name}")::int as c${i}`).join(', ')}`;
  return {
    async counts() {
      const row = (await pool.query(sql)).rows[0];
      return Object.fromEntries(tables.rows.map((t, i) => [`${t.schema}.${t.name}`, row[`c${i}`] as number]));
    },
    close: () => pool.end(),
  };
}
