import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';

/**
 * JSON Schemas of event types (draft-07, as most producers write them).
 * Checked against the meta-schema and compiled when an event type is saved;
 * payloads are validated at publish time against the cached compiled form.
 * `pattern` keywords run on RE2JS (linear time), so a hostile schema cannot
 * make publishing backtrack; remote `$ref`s are never fetched.
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
  code: { regExp: re2 },
  // Formats we check; unknown ones are ignored (strict: false).
  formats: {
    'date-time': (s: string) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
    date: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
    email: (s: string) => s.length <= 320 && /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(s),
    uri: (s: string) => URL.canParse(s),
    uuid: (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
  },
});

const cache = new Map<string, ValidateFunction>();
const CACHE_SIZE = 500;

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

function compile(schema: unknown, text: string): ValidateFunction {
  const cached = cache.get(text);
  if (cached) {
    // Refresh recency so hot event types stay cached.
    cache.delete(text);
    cache.set(text, cached);
    return cached;
  }
  const validate = ajv.compile(schema as object);
  // ajv keeps compiled schemas by identity; we cache by text ourselves.
  ajv.removeSchema(schema as object);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(text, validate);
  return validate;
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
  if (!ajv.validateSchema(schema)) {
    const error = ajv.errors?.[0];
    return { path: pointerToPath(error?.instancePath ?? ''), message: `Not a valid JSON Schema: ${error ? `${error.instancePath || '(root)'} ${describe(error)}` : 'rejected by the meta-schema'}.` };
  }
  try {
    compile(schema, text);
  } catch (error) {
    return { path: [], message: `The schema does not compile: ${(error as Error).message}` };
  }
  return undefined;
}

export type PayloadCheck = { ok: true } | { ok: false; path: string[]; pointer: string; message: string };

/**
 * Validates a payload against an event type's schema (null/undefined: any
 * payload). On failure gives the JSON path of the first failing value, e.g.
 * `["items", "0", "price"]`, and a message naming it.
 */
export function validatePayload(schema: unknown, payload: unknown): PayloadCheck {
  if (schema === null || schema === undefined) return { ok: true };
  const validate = compile(schema, JSON.stringify(schema));
  if (validate(payload)) return { ok: true };
  const error = validate.errors?.[0];
  const pointer = error?.instancePath ?? '';
  return { ok: false, path: pointerToPath(pointer), pointer, message: `payload${pointer ? ` at ${pointer}` : ''} ${error ? describe(error) : 'does not match the schema'}` };
}
