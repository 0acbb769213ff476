import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { WorkMeter } from './work-meter.js';

/**
 * Payload filters (Convoy/Outpost style), evaluated when deliveries are fanned
 * out against the delivered body `{"id","type","timestamp","data"}`, so the
 * payload is under `data`:
 *
 *   {"data.amount": {"$gte": 100},
 *    "$or": [{"data.country": "DE"}, {"data.country": {"$in": ["AT", "CH"]}}]}
 *
 * - Top-level keys are ANDed. A key is a dotted path (`customer.address.city`,
 *   `items.0.sku`) or one of `$and`, `$or` (non-empty arrays of filters) and
 *   `$not` (a filter).
 * - A path's value is a literal (deep equality) or an operator object:
 *   `$eq $neq $gt $gte $lt $lte $in $nin $exists $regex` (with optional
 *   `$options` of `i`, `m`, `s`) and `$not` (an operator object); all of an
 *   object's operators must hold.
 * - Paths walk objects and arrays: a numeric segment indexes an array, any
 *   other segment is applied to every element (`items.sku` looks at each
 *   item). A condition holds when ANY value found (or any element of a found
 *   array) satisfies it; `$neq`/`$nin` hold when none does, so a missing field
 *   satisfies them. `$gt`… compare numbers with numbers and strings with
 *   strings only.
 *
 * Safety: filters are bounded in size, depth, node count and number of
 * `$regex`es when saved; regular expressions run on RE2JS (linear time, no
 * backreferences or lookarounds) on strings of at most `maxRegexInput`
 * characters (longer ones do not match), so no input can make evaluation backtrack
 * catastrophically. Evaluation charges its work to a WorkMeter (a unit per
 * value looked at and per comparison), so a publish call's matching stops at
 * its budget.
 */

export interface FilterProblem {
  /** Path inside the filter, e.g. ["$or", "0", "country", "$in"]. */
  path: string[];
  message: string;
}

export const FILTER_LIMITS = Object.freeze({
  /** JSON text of the whole filter. */
  maxBytes: 16 * 1024,
  /** Nesting of filters, operator objects and literals. */
  maxDepth: 8,
  /** Values of any kind in the filter. */
  maxNodes: 512,
  maxPathLength: 256,
  maxPathSegments: 32,
  maxListLength: 256,
  maxRegexLength: 256,
  /** RE2 program instructions; keeps `a{1000}`-style blow-ups out. */
  maxRegexProgram: 4000,
  /** `$regex` operators in one filter. */
  maxRegexes: 16,
  /** Longest string (UTF-16 code units) a `$regex` is tested on; longer strings do not match. */
  maxRegexInput: 4096,
});

const FIELD_OPERATORS = new Set(['$eq', '$neq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$regex', '$options', '$not']);
const LOGICAL_OPERATORS = new Set(['$and', '$or', '$not']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.some((k) => k.startsWith('$'));
}

function splitPath(path: string): string[] | undefined {
  if (path.length === 0 || path.length > FILTER_LIMITS.maxPathLength) return undefined;
  const segments = path.split('.');
  if (segments.length > FILTER_LIMITS.maxPathSegments || segments.some((s) => s.length === 0)) return undefined;
  return segments;
}

function regexFlags(options: string): number {
  let flags = 0;
  if (options.includes('i')) flags |= RE2JS.CASE_INSENSITIVE;
  if (options.includes('m')) flags |= RE2JS.MULTILINE;
  if (options.includes('s')) flags |= RE2JS.DOTALL;
  return flags;
}

/** Compiles a regex on RE2JS, or says why it cannot be used. */
function compileRegex(pattern: unknown, options: unknown): RE2JS | string {
  if (typeof pattern !== 'string') return '$regex must be a string.';
  if (pattern.length > FILTER_LIMITS.maxRegexLength) return `$regex is longer than ${FILTER_LIMITS.maxRegexLength} characters.`;
  if (options !== undefined && (typeof options !== 'string' || !/^[ims]{0,3}$/.test(options))) return '$options may only contain the flags i, m and s.';
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern, regexFlags((options as string | undefined) ?? ''));
  } catch (error) {
    return `$regex does not compile (RE2 syntax: no backreferences or lookarounds): ${(error as Error).message}`;
  }
  if (regex.programSize() > FILTER_LIMITS.maxRegexProgram) return '$regex is too complex.';
  return regex;
}

class Validator {
  readonly problems: FilterProblem[] = [];
  private nodes = 0;
  private regexes = 0;

  problem(path: string[], message: string): void {
    if (this.problems.length < 20) this.problems.push({ path, message });
  }

  /** Counts a node; false once the filter is too large (reported once). */
  private count(path: string[]): boolean {
    this.nodes++;
    if (this.nodes === FILTER_LIMITS.maxNodes + 1) this.problem(path, `The filter has more than ${FILTER_LIMITS.maxNodes} values.`);
    return this.nodes <= FILTER_LIMITS.maxNodes;
  }

  private deep(path: string[], depth: number): boolean {
    if (depth <= FILTER_LIMITS.maxDepth) return true;
    this.problem(path, `The filter is nested deeper than ${FILTER_LIMITS.maxDepth} levels.`);
    return false;
  }

  filter(value: unknown, path: string[], depth: number): void {
    if (!this.count(path) || !this.deep(path, depth)) return;
    if (!isPlainObject(value)) return this.problem(path, 'A filter must be a JSON object.');
    for (const [key, child] of Object.entries(value)) {
      const at = [...path, key];
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(child) || child.length === 0) {
          this.problem(at, `${key} takes a non-empty array of filters.`);
          continue;
        }
        if (child.length > FILTER_LIMITS.maxListLength) {
          this.problem(at, `${key} takes at most ${FILTER_LIMITS.maxListLength} filters.`);
          continue;
        }
        child.forEach((item, i) => this.filter(item, [...at, String(i)], depth + 1));
      } else if (key === '$not') {
        this.filter(child, at, depth + 1);
      } else if (key.startsWith('$')) {
        this.problem(at, `Unknown operator "${key.slice(0, 40)}" here; use $and, $or, $not or a field path.`);
      } else if (!splitPath(key)) {
        this.problem(at, `"${key.slice(0, 40)}" is not a valid path: dot-separated, non-empty segments, at most ${FILTER_LIMITS.maxPathSegments} segments and ${FILTER_LIMITS.maxPathLength} characters.`);
      } else if (isOperatorObject(child)) {
        this.operators(child, at, depth + 1);
      } else {
        this.literal(child, at, depth + 1);
      }
    }
  }

  private operators(ops: Record<string, unknown>, path: string[], depth: number): void {
    if (!this.count(path) || !this.deep(path, depth)) return;
    for (const [op, arg] of Object.entries(ops)) {
      const at = [...path, op];
      if (!op.startsWith('$')) {
        this.problem(at, `"${op.slice(0, 40)}" mixes a field name with operators; put nested fields in the path instead.`);
        continue;
      }
      if (!FIELD_OPERATORS.has(op)) {
        this.problem(at, `Unknown operator "${op.slice(0, 40)}".`);
        continue;
      }
      switch (op) {
        case '$eq':
        case '$neq':
        case '$ne':
          this.literal(arg, at, depth + 1);
          break;
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte':
          if (!(typeof arg === 'number' && Number.isFinite(arg)) && typeof arg !== 'string') this.problem(at, `${op} takes a number or a string.`);
          else this.count(at);
          break;
        case '$in':
        case '$nin':
          if (!Array.isArray(arg)) this.problem(at, `${op} takes an array of values.`);
          else if (arg.length > FILTER_LIMITS.maxListLength) this.problem(at, `${op} takes at most ${FILTER_LIMITS.maxListLength} values.`);
          else arg.forEach((item, i) => this.literal(item, [...at, String(i)], depth + 1));
          break;
        case '$exists':
          if (typeof arg !== 'boolean') this.problem(at, '$exists takes true or false.');
          break;
        case '$regex': {
          const compiled = compileRegex(arg, ops.$options);
          if (typeof compiled === 'string') this.problem(at, compiled);
          else if (++this.regexes === FILTER_LIMITS.maxRegexes + 1) this.problem(at, `A filter has at most ${FILTER_LIMITS.maxRegexes} $regex operators.`);
          break;
        }
        case '$options':
          if (!('$regex' in ops)) this.problem(at, '$options only goes with $regex.');
          break;
        case '$not':
          if (!isOperatorObject(arg)) this.problem(at, 'Inside a field, $not takes an operator object such as {"$in": [...]}.');
          else this.operators(arg, at, depth + 1);
          break;
      }
    }
  }

  private literal(value: unknown, path: string[], depth: number): void {
    if (!this.count(path) || !this.deep(path, depth)) return;
    if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.problem(path, 'Numbers must be finite.');
      return;
    }
    if (Array.isArray(value)) {
      if (value.length > FILTER_LIMITS.maxListLength) return this.problem(path, `Arrays hold at most ${FILTER_LIMITS.maxListLength} values.`);
      value.forEach((item, i) => this.literal(item, [...path, String(i)], depth + 1));
      return;
    }
    if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (key.startsWith('$')) return this.problem([...path, key], `Operator "${key.slice(0, 40)}" is not allowed inside a literal value.`);
        this.literal(child, [...path, key], depth + 1);
      }
      return;
    }
    this.problem(path, 'Not a JSON value.');
  }
}

/** Problems with a filter (empty when it is valid). `null` means "no filter" and is valid. */
export function validateFilter(filter: unknown): FilterProblem[] {
  if (filter === null || filter === undefined) return [];
  let text: string | undefined;
  try {
    text = JSON.stringify(filter);
  } catch {
    return [{ path: [], message: 'The filter is not JSON.' }];
  }
  if (text !== undefined && Buffer.byteLength(text) > FILTER_LIMITS.maxBytes) {
    return [{ path: [], message: `The filter is larger than ${FILTER_LIMITS.maxBytes} bytes.` }];
  }
  const validator = new Validator();
  validator.filter(filter, [], 1);
  return validator.problems;
}

/* ---------------------------------------------------------------- evaluation */

/** Whether the payload matches; work is charged to `meter` (which throws OverBudget past its limit). */
export type CompiledFilter = (payload: unknown, meter?: WorkMeter) => boolean;

/** Every value found at `segments` (fan-out over arrays for non-index segments). */
function resolve(payload: unknown, segments: readonly string[], meter: WorkMeter): unknown[] {
  let current: unknown[] = [payload];
  for (const segment of segments) {
    meter.charge(current.length);
    const next: unknown[] = [];
    const index = /^(0|[1-9][0-9]{0,8})$/.test(segment) ? Number(segment) : undefined;
    for (const value of current) {
      if (Array.isArray(value)) {
        if (index !== undefined) {
          if (index < value.length) next.push(value[index]);
        } else {
          for (const element of value) {
            if (isPlainObject(element) && Object.hasOwn(element, segment)) next.push(element[segment]);
          }
        }
      } else if (isPlainObject(value) && Object.hasOwn(value, segment)) {
        next.push(value[segment]);
      }
    }
    if (next.length === 0) return next;
    current = next;
  }
  return current;
}

/** Found values plus the elements of found arrays: what a condition is tried against. */
function candidates(found: unknown[], meter: WorkMeter): unknown[] {
  const out: unknown[] = [];
  for (const value of found) {
    out.push(value);
    if (Array.isArray(value)) for (const element of value) out.push(element);
  }
  meter.charge(out.length);
  return out;
}

/**
 * A regex test. A string longer than maxRegexInput never matches: testing a
 * prefix could let an anchored pattern (`^a+$`) match text it does not
 * match. RE2JS is linear but not cheap: a test costs about 16 units plus 5
 * per character (measured with patterns that defeat its literal prefilter).
 */
function regexTest(regex: RE2JS, value: string, meter: WorkMeter): boolean {
  if (value.length > FILTER_LIMITS.maxRegexInput) return false;
  meter.charge(16 + 5 * value.length);
  return regex.test(value);
}

/** Units of one jsonEqual against `literal`: primitives are one check; objects and arrays walk (and list keys of) every node. */
function equalityCost(literal: unknown): number {
  if (typeof literal !== 'object' || literal === null) return 1;
  let nodes = 0;
  const stack: unknown[] = [literal];
  while (stack.length) {
    const value = stack.pop();
    nodes++;
    if (typeof value === 'object' && value !== null) stack.push(...Object.values(value));
  }
  return 4 * nodes;
}

/** JSON deep equality; recursion is bounded by the (validated) literal's depth. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const ka = Object.keys(a);
  const bo = b as Record<string, unknown>;
  if (ka.length !== Object.keys(bo).length) return false;
  return ka.every((k) => Object.hasOwn(bo, k) && jsonEqual((a as Record<string, unknown>)[k], bo[k]));
}

function compare(value: unknown, op: string, arg: number | string): boolean {
  if (typeof value !== typeof arg) return false;
  const v = value as number | string;
  switch (op) {
    case '$gt':
      return v > arg;
    case '$gte':
      return v >= arg;
    case '$lt':
      return v < arg;
    default:
      return v <= arg;
  }
}

type ValuesTest = (found: unknown[], meter: WorkMeter) => boolean;

function compileOperators(ops: Record<string, unknown>): ValuesTest {
  const tests: ValuesTest[] = [];
  for (const [op, arg] of Object.entries(ops)) {
    switch (op) {
      case '$eq':
      case '$neq':
      case '$ne': {
        const cost = equalityCost(arg);
        const some = (found: unknown[], meter: WorkMeter) => {
          const values = candidates(found, meter);
          meter.charge(values.length * cost);
          return values.some((v) => jsonEqual(v, arg));
        };
        tests.push(op === '$eq' ? some : (found, meter) => !some(found, meter));
        break;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        tests.push((found, meter) => candidates(found, meter).some((v) => compare(v, op, arg as number | string)));
        break;
      case '$in':
      case '$nin': {
        const list = arg as unknown[];
        const cost = list.reduce((sum: number, item) => sum + equalityCost(item), 0);
        const some = (found: unknown[], meter: WorkMeter) => {
          const values = candidates(found, meter);
          meter.charge(values.length * cost);
          return values.some((v) => list.some((item) => jsonEqual(v, item)));
        };
        tests.push(op === '$in' ? some : (found, meter) => !some(found, meter));
        break;
      }
      case '$exists':
        tests.push((found) => found.length > 0 === arg);
        break;
      case '$regex': {
        const regex = compileRegex(arg, ops.$options) as RE2JS;
        tests.push((found, meter) => candidates(found, meter).some((v) => typeof v === 'string' && regexTest(regex, v, meter)));
        break;
      }
      case '$not': {
        const inner = compileOperators(arg as Record<string, unknown>);
        tests.push((found, meter) => !inner(found, meter));
        break;
      }
      // $options is read by $regex.
    }
  }
  return (found, meter) => tests.every((test) => test(found, meter));
}

type PayloadTest = (payload: unknown, meter: WorkMeter) => boolean;

function compileNode(filter: Record<string, unknown>): PayloadTest {
  const tests: PayloadTest[] = [];
  for (const [key, arg] of Object.entries(filter)) {
    if (key === '$and') {
      const parts = (arg as Record<string, unknown>[]).map(compileNode);
      tests.push((payload, meter) => parts.every((part) => part(payload, meter)));
    } else if (key === '$or') {
      const parts = (arg as Record<string, unknown>[]).map(compileNode);
      tests.push((payload, meter) => parts.some((part) => part(payload, meter)));
    } else if (key === '$not') {
      const inner = compileNode(arg as Record<string, unknown>);
      tests.push((payload, meter) => !inner(payload, meter));
    } else {
      const segments = splitPath(key)!;
      const test = isOperatorObject(arg) ? compileOperators(arg) : compileOperators({ $eq: arg });
      tests.push((payload, meter) => test(resolve(payload, segments, meter), meter));
    }
  }
  return (payload, meter) => tests.every((test) => test(payload, meter));
}

export class InvalidFilterError extends Error {
  constructor(readonly problems: FilterProblem[]) {
    super(`invalid filter: ${problems.map((p) => `${p.path.join('.') || '(root)'}: ${p.message}`).join('; ')}`);
    this.name = 'InvalidFilterError';
  }
}

/**
 * Compiled filters kept, by filter text. An entry is the text and a closure
 * per node (FILTER_LIMITS caps both), typically a few KB; subscriptions
 * share a handful of filters, so 1,000 keeps the live ones in a few MB, and
 * a miss recompiles, linear in the filter.
 */
const COMPILED_FILTERS = 1000;
const cache = new LRUCache<string, CompiledFilter>({ max: COMPILED_FILTERS });

/**
 * A predicate over payloads. `null`/`undefined` match everything. Throws
 * InvalidFilterError for a filter that validateFilter rejects. Compiled
 * filters are cached by their JSON text (bounded), so calling this per
 * delivery is cheap.
 */
export function compileFilter(filter: unknown): CompiledFilter {
  if (filter === null || filter === undefined) return () => true;
  let key: string;
  try {
    key = JSON.stringify(filter);
  } catch {
    throw new InvalidFilterError([{ path: [], message: 'The filter is not JSON.' }]);
  }
  const cached = cache.get(key);
  if (cached) return cached;
  const problems = validateFilter(filter);
  if (problems.length) throw new InvalidFilterError(problems);
  const test = compileNode(filter as Record<string, unknown>);
  const compiled: CompiledFilter = (payload, meter = new WorkMeter(Infinity)) => test(payload, meter);
  cache.set(key, compiled);
  return compiled;
}

