/**
 * What a JSON Schema costs to validate, worked out when it is saved.
 *
 * ajv runs every subschema that applies to a value: the value's own schema,
 * its `allOf`/`anyOf`/`oneOf` branches, `not`/`if`/`then`/`else`,
 * `dependencies` and `$ref` targets, and so on down. Combinators over `$ref`s
 * multiply: `{"anyOf": [{"$ref": "#/d"}, {"$ref": "#/d"}]}` nested twenty
 * times checks one value a million times, and ajv never memoizes. So:
 *
 * - a schema has at most MAX_SCHEMA_NODES subschemas (bounds compile time),
 *   nested at most MAX_SCHEMA_DEPTH deep (ajv recurses per level);
 * - at most MAX_SCHEMA_WIDTH subschemas apply to any one payload value
 *   ($ref targets and branches counted as often as they are reached), and a
 *   `$ref` may not loop back to a schema of the same value;
 * - `$id` only at the root (so `#/...` pointers mean the document).
 *
 * The analysis yields a plan mapping each payload location to the weight of
 * the subschemas that apply there (a subschema weighs 1 plus the length of its
 * keyword lists: `required`, `enum`, `properties`… are scanned per value),
 * plus, for regexes (`pattern` on string values, `patternProperties` on
 * keys), REGEX_UNITS_PER_CHAR per character tested: RE2JS is linear but
 * slow. `cost()` walks a payload along the plan: the work units a publish
 * call is charged for validating it.
 */

export const MAX_SCHEMA_NODES = 1000;
/** Subschemas nested in subschemas; ajv's meta-schema check and compiler recurse per level. */
export const MAX_SCHEMA_DEPTH = 64;
export const MAX_SCHEMA_WIDTH = 64;
/** RE2JS takes up to ~5 cheap checks' time per character with patterns that defeat its prefilter. */
const REGEX_UNITS_PER_CHAR = 5;
/** Distinct payload locations the analysis tells apart, and steps it takes; more is refused as too complex. */
const MAX_STATES = 2000;
const MAX_ANALYSIS_STEPS = 2_000_000;

export interface SchemaCostProblem {
  path: string[];
  message: string;
}

type Node = Record<string, unknown>;

/** Boolean subschemas share these stand-ins (no keywords, weight 1). */
const TRUE_NODE: Node = Object.freeze({});
const FALSE_NODE: Node = Object.freeze({});

const SAME_VALUE_ONE = ['not', 'if', 'then', 'else'];
const SAME_VALUE_LISTS = ['allOf', 'anyOf', 'oneOf'];
const SAME_VALUE_MAPS = ['dependencies', 'dependentSchemas'];
const CHILD_ONE = ['additionalProperties', 'propertyNames', 'additionalItems', 'contains', 'items', ...SAME_VALUE_ONE];
const CHILD_LISTS = ['items', ...SAME_VALUE_LISTS];
const CHILD_MAPS = ['properties', 'patternProperties', 'definitions', '$defs', ...SAME_VALUE_MAPS];

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asNode(value: unknown): Node | undefined {
  if (value === true) return TRUE_NODE;
  if (value === false) return FALSE_NODE;
  return isNode(value) ? value : undefined;
}

class Refused extends Error {
  constructor(readonly problem: SchemaCostProblem) {
    super(problem.message);
  }
}

/** Every object subschema with its path, root first; iterative, so deep nesting cannot overflow the stack. */
function subschemas(root: Node): Map<Node, string[]> {
  const paths = new Map<Node, string[]>();
  const stack: [Node, string[], number][] = [[root, [], 0]];
  while (stack.length) {
    const [node, path, depth] = stack.pop()!;
    if (paths.has(node)) continue;
    paths.set(node, path);
    if (paths.size > MAX_SCHEMA_NODES) throw new Refused({ path: [], message: `The schema has more than ${MAX_SCHEMA_NODES} subschemas.` });
    if (depth > MAX_SCHEMA_DEPTH) throw new Refused({ path, message: `Subschemas are nested more than ${MAX_SCHEMA_DEPTH} deep here.` });
    if (path.length > 0 && node.$id !== undefined) throw new Refused({ path: [...path, '$id'], message: '$id is only supported at the root of the schema.' });
    const push = (child: unknown, at: string[]) => {
      if (isNode(child)) stack.push([child, at, depth + 1]);
    };
    for (const key of CHILD_ONE) push(node[key], [...path, key]);
    for (const key of CHILD_LISTS) {
      const list = node[key];
      if (Array.isArray(list)) list.forEach((child, i) => push(child, [...path, key, String(i)]));
    }
    for (const key of CHILD_MAPS) {
      const map = node[key];
      if (isNode(map)) for (const [name, child] of Object.entries(map)) push(child, [...path, key, name]);
    }
  }
  return paths;
}

/** Why the schema's shape is refused (too many or too deeply nested subschemas, nested $id), or undefined. Cheap: one walk, no recursion. */
export function schemaShapeProblem(schema: unknown): SchemaCostProblem | undefined {
  if (!isNode(schema)) return undefined;
  try {
    subschemas(schema);
    return undefined;
  } catch (error) {
    if (error instanceof Refused) return error.problem;
    throw error;
  }
}

/** A payload location: the weight of the subschemas applying there and where its children go. */
interface State {
  weight: number;
  /** Units per character of a string value (its `pattern`s). */
  perChar: number;
  shape: Shape;
}

/** Where a location's children go; shared by locations whose subschemas descend alike. */
interface Shape {
  /** Units per character of each property name (the `patternProperties` tried on it). */
  perKeyChar: number;
  properties: Map<string, State>;
  otherProperty: State | undefined;
  /** Tuple positions (`items` as an array); beyond them, otherItem. */
  items: (State | undefined)[];
  otherItem: State | undefined;
}

export interface SchemaPlan {
  /** Work units of validating `payload`; stops counting once past `limit`. */
  cost(payload: unknown, limit: number): number;
}

/** 1, plus 1 per keyword, or the length of its list or map (`required`, `enum`, `properties`…). */
function weightOf(node: Node): number {
  let weight = 1;
  for (const [key, value] of Object.entries(node)) {
    if (Array.isArray(value)) weight += value.length;
    else if (isNode(value) && !CHILD_ONE.includes(key)) weight += Object.keys(value).length;
    else weight += 1;
  }
  return weight;
}

function decodePointer(ref: string): string[] | undefined {
  if (ref === '#') return [];
  if (!ref.startsWith('#/')) return undefined;
  try {
    // Split first, then decode each part, as ajv resolves it: `#/$defs/a%2Fb` is the key "a/b", not a.b.
    return ref
      .slice(2)
      .split('/')
      .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'));
  } catch {
    return undefined;
  }
}

/** Subschemas applying to the same value as `root`'s subschemas do, as node → times applied. */
class Closures {
  private readonly memo = new Map<Node, Map<Node, number>>();
  private readonly active = new Set<Node>();

  constructor(
    private readonly root: Node,
    private readonly paths: Map<Node, string[]>,
  ) {}

  pathOf(node: Node): string[] {
    return this.paths.get(node) ?? [];
  }

  private resolve(ref: string, at: string[]): Node {
    const segments = decodePointer(ref);
    let target: unknown = this.root;
    // Own keys only: `#/properties/__proto__` names nothing in the document.
    for (const segment of segments ?? []) target = (isNode(target) || Array.isArray(target)) && Object.hasOwn(target, segment) ? (target as Record<string, unknown>)[segment] : undefined;
    const node = segments ? asNode(target) : undefined;
    if (!node) throw new Refused({ path: at, message: `Only $refs to a subschema of this document ("#/definitions/name") are supported; "${ref.slice(0, 100)}" is not one.` });
    return node;
  }

  of(node: Node): Map<Node, number> {
    const known = this.memo.get(node);
    if (known) return known;
    const path = this.pathOf(node);
    if (this.active.has(node)) throw new Refused({ path, message: 'A $ref leads back to a schema of the same value: validating would never end.' });
    this.active.add(node);
    const out = new Map<Node, number>([[node, 1]]);
    let total = 1;
    const add = (child: unknown, at: string[], ref = false) => {
      const childNode = ref ? this.resolve(child as string, at) : asNode(child);
      if (!childNode) return;
      for (const [n, times] of this.of(childNode)) {
        out.set(n, (out.get(n) ?? 0) + times);
        total += times;
      }
      if (total > MAX_SCHEMA_WIDTH) throw new Refused({ path, message: tooWide() });
    };
    if (typeof node.$ref === 'string') add(node.$ref, [...path, '$ref'], true);
    for (const key of SAME_VALUE_ONE) add(node[key], path);
    for (const key of SAME_VALUE_LISTS) {
      const list = node[key];
      if (Array.isArray(list)) for (const child of list) add(child, path);
    }
    for (const key of SAME_VALUE_MAPS) {
      const map = node[key];
      if (isNode(map)) for (const child of Object.values(map)) if (!Array.isArray(child)) add(child, path);
    }
    this.active.delete(node);
    this.memo.set(node, out);
    return out;
  }
}

function tooWide(): string {
  return `More than ${MAX_SCHEMA_WIDTH} subschemas would apply to one value (counting each $ref target and allOf/anyOf/oneOf branch every time it is reached).`;
}

const OTHER = Symbol('other');
const DESCENDING = ['properties', 'patternProperties', 'additionalProperties', 'propertyNames', 'items', 'additionalItems', 'contains'];

function descends(node: Node): boolean {
  return DESCENDING.some((key) => node[key] !== undefined);
}

/**
 * The schema's plan, or why it is refused. Assumes `schemaShapeProblem` found
 * nothing; work is bounded by MAX_STATES × the schema's size.
 */
export function analyseSchema(schema: unknown): { plan: SchemaPlan } | { problem: SchemaCostProblem } {
  const root = asNode(schema);
  if (!root) return { problem: { path: [], message: 'A JSON Schema must be an object (or a boolean).' } };
  try {
    const paths = subschemas(root);
    const closures = new Closures(root, paths);
    const states = new Map<string, State>();
    const shapes = new Map<string, Shape>();
    const pending: [Shape, Map<Node, number>][] = [];
    const ids = new Map<Node, number>();
    const idOf = (node: Node) => ids.get(node) ?? (ids.set(node, ids.size), ids.size - 1);

    /** The state of a multiset of subschemas, made once per distinct multiset. */
    const stateOf = (applied: Map<Node, number>): State | undefined => {
      if (applied.size === 0) return undefined;
      const key = [...applied].map(([n, times]) => `${idOf(n)}x${times}`).sort().join(',');
      let state = states.get(key);
      if (!state) {
        let weight = 0;
        let perChar = 0;
        const descending = new Map<Node, number>();
        for (const [n, times] of applied) {
          weight += weightOf(n) * times;
          if (typeof n.pattern === 'string') perChar += REGEX_UNITS_PER_CHAR * times;
          if (descends(n)) descending.set(n, times);
        }
        const shapeKey = [...descending].map(([n, times]) => `${idOf(n)}x${times}`).sort().join(',');
        let shape = shapes.get(shapeKey);
        if (!shape) {
          let perKeyChar = 0;
          for (const [n, times] of descending) {
            if (isNode(n.patternProperties)) perKeyChar += REGEX_UNITS_PER_CHAR * Object.keys(n.patternProperties).length * times;
            if (isNode(n.propertyNames) && typeof n.propertyNames.pattern === 'string') perKeyChar += REGEX_UNITS_PER_CHAR * times;
          }
          shape = { perKeyChar, properties: new Map(), otherProperty: undefined, items: [], otherItem: undefined };
          shapes.set(shapeKey, shape);
          pending.push([shape, descending]);
        }
        state = { weight, perChar, shape };
        states.set(key, state);
        if (states.size > MAX_STATES) throw tooComplex();
      }
      return state;
    };

    let steps = 0;
    const tooComplex = () => new Refused({ path: [], message: 'The schema is too complex to check.' });
    const child = (applied: Map<Node, number>, pick: (node: Node) => unknown[]): State | undefined => {
      const next = new Map<Node, number>();
      let total = 0;
      for (const [node, times] of applied) {
        for (const sub of pick(node)) {
          const subNode = asNode(sub);
          if (!subNode) continue;
          const closure = closures.of(subNode);
          if ((steps += 1 + closure.size) > MAX_ANALYSIS_STEPS) throw tooComplex();
          for (const [n, k] of closure) {
            next.set(n, (next.get(n) ?? 0) + k * times);
            total += k * times;
          }
          if (total > MAX_SCHEMA_WIDTH) throw new Refused({ path: closures.pathOf(subNode), message: tooWide() });
        }
      }
      return stateOf(next);
    };

    const start = stateOf(closures.of(root))!;
    while (pending.length) {
      const [shape, applied] = pending.pop()!;
      const names = new Set<string>();
      let tuple = 0;
      for (const node of applied.keys()) {
        if (isNode(node.properties)) for (const name of Object.keys(node.properties)) names.add(name);
        if (Array.isArray(node.items)) tuple = Math.max(tuple, node.items.length);
      }
      const propertyChildren = (name: string | typeof OTHER) => (node: Node) => {
        const props = isNode(node.properties) ? node.properties : undefined;
        const own = name !== OTHER && props && Object.hasOwn(props, name) ? props[name] : node.additionalProperties;
        // Any pattern may match the name; propertyNames is counted as if it checked the value.
        return [own, ...(isNode(node.patternProperties) ? Object.values(node.patternProperties) : []), node.propertyNames];
      };
      for (const name of names) {
        const next = child(applied, propertyChildren(name));
        if (next) shape.properties.set(name, next);
      }
      shape.otherProperty = child(applied, propertyChildren(OTHER));
      const itemChildren = (index: number | typeof OTHER) => (node: Node) => {
        const own = Array.isArray(node.items) ? (index !== OTHER && index < node.items.length ? node.items[index] : node.additionalItems) : node.items;
        return [own, node.contains];
      };
      for (let i = 0; i < tuple; i++) shape.items.push(child(applied, itemChildren(i)));
      shape.otherItem = child(applied, itemChildren(OTHER));
    }
    return { plan: { cost: (payload, limit) => walk(start, payload, limit) } };
  } catch (error) {
    if (error instanceof Refused) return { problem: error.problem };
    throw error;
  }
}

/** Σ weights (and regex characters) of the states the payload's values land in; iterative, stops past `limit`. */
function walk(start: State, payload: unknown, limit: number): number {
  let units = 0;
  const stack: [State, unknown][] = [[start, payload]];
  while (stack.length) {
    const [state, value] = stack.pop()!;
    units += state.weight;
    if (units > limit) return units;
    const { shape } = state;
    if (typeof value === 'string') units += state.perChar * value.length;
    else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const next = i < shape.items.length ? shape.items[i] : shape.otherItem;
        if (next) stack.push([next, value[i]]);
      }
    } else if (isNode(value)) {
      for (const [name, item] of Object.entries(value)) {
        units += shape.perKeyChar * name.length;
        const next = shape.properties.get(name) ?? shape.otherProperty;
        if (next) stack.push([next, item]);
      }
    }
  }
  return units;
}
