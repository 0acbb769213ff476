import { Ajv, type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { analyseSchema, schemaShapeProblem, type SchemaPlan } from './json-schema-cost.js';
import type { WorkMeter } from './work-meter.js';

/**
 * JSON Schemas of event types (draft-07, as most producers write them).
 * Checked against the meta-schema and compiled when an event type is saved;
 * payloads are validated at publish time against the cached compiled form.
 * `pattern` keywords run on RE2JS (linear time), so a hostile schema cannot
 * make publishing backtrack; remote `$ref`s are never fetched.
 *
 * Cost: compiling is linear in the schema (`$ref`s are called, not inlined,
 * and the schema has at most MAX_SCHEMA_NODES subschemas); validating is
 * bounded per payload value when saved and charged, per payload, to the
 * publish call's budget (json-schema-cost.ts);
 * `uniqueItems` is checked in linear time (ajv's own check is quadratic).
 */
export const MAX_SCHEMA_BYTES = 64 * 1024;

const re2: ((pattern: string, flags: string) => { test: (s: string) => boolean }) & { code: string } = Object.assign(
  (pattern: string, flags: string) => RE2JS.compile(pattern, flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0),
  { code: 'RE2JS' },
);

const ajv = new Ajv({
  strict: false,
  allErrors: false,
  logger: false,
  // Inlining copies a definition's code into every $ref to it: 500 refs to a
  // 200-property definition made 37 MB of code and a 57 s compile. ajv's
  // optimizer passes grow faster than linearly with nesting; skip them.
  inlineRefs: false,
  code: { regExp: re2, optimize: false },
  // A payload's own properties only: `constructor` or `toString` in a schema must not see Object.prototype's.
  ownProperties: true,
  // Formats we check; unknown ones are ignored (strict: false).
  formats: {
    'date-time': (s: string) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
    date: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
    email: (s: string) => s.length <= 320 && /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(s),
    uri: (s: string) => URL.canParse(s),
    uuid: (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
  },
});

/** Key of a JSON value, equal for equal values whatever the order of object keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** `uniqueItems` by hashing canonical keys: linear in the array, where ajv compares every pair. */
const uniqueItems: SchemaValidateFunction = (schema: boolean, data: unknown[]) => {
  if (!schema) return true;
  const seen = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const key = canonical(data[i]);
    const j = seen.get(key);
    if (j !== undefined) {
      uniqueItems.errors = [{ keyword: 'uniqueItems', params: { i, j }, message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)` }];
      return false;
    }
    seen.set(key, i);
  }
  return true;
};
ajv.removeKeyword('uniqueItems');
ajv.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', errors: true, validate: uniqueItems });

interface Compiled {
  validate: ValidateFunction;
  /** Undefined for a stored schema the current limits refuse: it is never run. */
  plan: SchemaPlan | undefined;
  problem: SchemaProblem | undefined;
}

/**
 * Compiled schemas kept, by schema text. A compiled schema is ajv's
 * generated code plus its cost plan, tens of KB for a large one; event types
 * with schemas are few per tenant, so 500 keeps the hot ones of many tenants
 * under tens of MB, and a miss recompiles (linear in the schema).
 */
const COMPILED_SCHEMAS = 500;
const cache = new LRUCache<string, Compiled>({ max: COMPILED_SCHEMAS });

export interface SchemaProblem {
  /** Path inside the schema (for schema errors) or the payload (for payload errors). */
  path: string[];
  message: string;
}

function pointerToPath(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describe(error: ErrorObject): string {
  return error.message ?? error.keyword;
}

/** Stands in for a schema the limits refuse; validatePayload never calls it. */
const neverRun = (() => false) as unknown as ValidateFunction;

function compile(schema: unknown, text: string): Compiled {
  const cached = cache.get(text);
  if (cached) return cached;
  let compiled: Compiled;
  const shape = schemaShapeProblem(schema);
  if (shape) {
    // Stored before the limits: compiling could stall; validatePayload refuses every payload.
    compiled = { validate: neverRun, plan: undefined, problem: shape };
  } else {
    // Analysed first: a $ref that loops back to its own value is refused here, by name, before ajv recurses on it.
    const analysis = typeof schema === 'boolean' ? { plan: { cost: () => 1 } } : analyseSchema(schema);
    if ('plan' in analysis) {
      const validate = ajv.compile(schema as object);
      // ajv keeps compiled schemas by identity; we cache by text ourselves.
      ajv.removeSchema(schema as object);
      compiled = { validate, plan: analysis.plan, problem: undefined };
    } else compiled = { validate: neverRun, plan: undefined, problem: analysis.problem };
  }
  cache.set(text, compiled);
  return compiled;
}

/** ajv throws (rather than reports) on a `$schema` it does not know; only draft-07 is accepted. */
function metaSchemaProblem(schema: Record<string, unknown>): SchemaProblem | undefined {
  if (!('$schema' in schema)) return undefined;
  const uri = schema.$schema;
  if (typeof uri === 'string' && /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/.test(uri)) return undefined;
  return { path: ['$schema'], message: 'Only draft-07 JSON Schemas are supported: $schema must be "http://json-schema.org/draft-07/schema#" or absent.' };
}

/** Why `schema` is not a usable JSON Schema, or undefined when it is. */
export function jsonSchemaProblem(schema: unknown): SchemaProblem | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return { path: [], message: 'A JSON Schema must be an object (or a boolean).' };
  const text = JSON.stringify(schema);
  if (Buffer.byteLength(text) > MAX_SCHEMA_BYTES) return { path: [], message: `The schema is larger than ${MAX_SCHEMA_BYTES / 1024} KiB.` };
  const meta = metaSchemaProblem(schema as Record<string, unknown>);
  if (meta) return meta;
  // Before ajv, which recurses per nesting level.
  const shape = schemaShapeProblem(schema);
  if (shape) return shape;
  if (!ajv.validateSchema(schema)) {
    const error = ajv.errors?.[0];
    return { path: pointerToPath(error?.instancePath ?? ''), message: `Not a valid JSON Schema: ${error ? `${error.instancePath || '(root)'} ${describe(error)}` : 'rejected by the meta-schema'}.` };
  }
  try {
    return compile(schema, text).problem;
  } catch (error) {
    return { path: [], message: `The schema does not compile: ${(error as Error).message}` };
  }
}

export type PayloadCheck = { ok: true } | { ok: false; path: string[]; pointer: string; message: string };

/**
 * Validates a payload against an event type's schema (null/undefined: any
 * payload). On failure gives the JSON path of the first failing value, e.g.
 * `["items", "0", "price"]`, and a message naming it.
 *
 * With a meter, the work is charged first (Σ over the payload's values of
 * the weight of the subschemas that apply there, json-schema-cost.ts): past
 * its limit OverBudget is thrown and the payload is not validated. A stored
 * schema the current limits refuse is never run: every payload fails.
 */
export function validatePayload(schema: unknown, payload: unknown, meter?: WorkMeter): PayloadCheck {
  if (schema === null || schema === undefined) return { ok: true };
  const { validate, plan, problem } = compile(schema, JSON.stringify(schema));
  if (!plan) {
    const where = problem?.path.length ? ` at /${problem.path.join('/')}` : '';
    return { ok: false, path: [], pointer: '', message: `cannot be checked: the event type's schema, saved before the current limits, is refused by them${where} (${problem?.message}); update the schema` };
  }
  meter?.charge(plan.cost(payload, meter.remaining));
  if (validate(payload)) return { ok: true };
  const error = validate.errors?.[0];
  const pointer = error?.instancePath ?? '';
  return { ok: false, path: pointerToPath(pointer), pointer, message: `payload${pointer ? ` at ${pointer}` : ''} ${error ? describe(error) : 'does not match the schema'}` };
}
