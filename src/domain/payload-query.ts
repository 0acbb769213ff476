import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  getNamedType,
  isObjectType,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { EventSchema } from './event-schema.js';
import { anyPatternMatches } from './patterns.js';
import { OverBudget, type WorkMeter } from './work-meter.js';

/**
 * Payload queries: a subscription's GraphQL document against its tenant's
 * event schema, one subscription operation per event type it shapes
 * (`subscription { orderCreated { orderId total } }`; several event types
 * take several named operations). Validated when saved; compiled then into a
 * plan — a projection of payload properties, fragments and `@include`/`@skip`
 * resolved — so shaping a delivery is a walk over the payload, not a GraphQL
 * execution. The plan keeps working when the event type's schema changes
 * later: a property that is gone comes out null.
 */

/** Longest payload query accepted, in bytes. */
export const MAX_PAYLOAD_QUERY_BYTES = 16 * 1024;
/** Most fields a payload query's plan may select, fragments expanded (each one costs every delivery a lookup). */
export const MAX_PAYLOAD_QUERY_FIELDS = 500;
/** Deepest nesting of selections. */
export const MAX_PAYLOAD_QUERY_DEPTH = 16;
/**
 * Deepest nesting of `{` and `[` parsed: a bound for the parser only, far
 * above what a legal query needs (inline fragments and list values nest
 * braces without nesting selections); the selection limit is planning's.
 */
const MAX_PAYLOAD_QUERY_BRACES = 128;
/** Most tokens parsed; also the most selections compiling visits, fragments expanded, so a query's cost is bounded by its size, never by how its fragments multiply. */
const MAX_PAYLOAD_QUERY_TOKENS = 5000;

const tooDeep = () => `The payload query nests deeper than ${MAX_PAYLOAD_QUERY_DEPTH} levels.`;
const tooManyFields = () => `The payload query selects more than ${MAX_PAYLOAD_QUERY_FIELDS} fields (fragments counted where they are spread).`;

/** One selected field: the response key, the payload property it reads, and its sub-selection (objects and lists of them). */
export interface PlannedField {
  key: string;
  /** The property read; absent for `__typename`. */
  field?: string;
  /** `__typename`'s answer. */
  typename?: string;
  select?: PlannedField[];
}

/**
 * By event type name: the selection its deliveries' `data` is shaped by
 * (never empty: a selection `@skip`/`@include` leave empty is refused);
 * null where the query names the event type's root field without a selection
 * (a `JSON` type: executing it gives the whole payload).
 */
export type PayloadPlan = Record<string, PlannedField[] | null>;

export type PayloadQueryCheck = { ok: true; plan: PayloadPlan } | { ok: false; message: string };

/**
 * Checks `text` against the event schema and the subscription's event type
 * patterns and compiles it. Messages are graphql-js's where it reports the
 * problem, so they match what any GraphQL tool says about the same document.
 */
export function checkPayloadQuery(text: string, eventSchema: EventSchema, eventTypePatterns: readonly string[]): PayloadQueryCheck {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_QUERY_BYTES) return { ok: false, message: `The payload query is longer than ${MAX_PAYLOAD_QUERY_BYTES} bytes.` };
  let document: DocumentNode;
  try {
    // Refused before parsing: graphql-js parses nesting recursively, and a deep enough document overflows the stack.
    if (braceDepth(text) > MAX_PAYLOAD_QUERY_BRACES) {
      return { ok: false, message: `The payload query nests braces and brackets deeper than ${MAX_PAYLOAD_QUERY_BRACES} levels, more than is parsed (selections nest at most ${MAX_PAYLOAD_QUERY_DEPTH}).` };
    }
    document = parse(text, { maxTokens: MAX_PAYLOAD_QUERY_TOKENS });
  } catch (error) {
    if (error instanceof GraphQLError) return { ok: false, message: error.message };
    throw error;
  }
  if (!eventSchema.schema.getSubscriptionType()) return { ok: false, message: 'The tenant has no event types yet, so there is nothing to select.' };
  const errors = validate(eventSchema.schema, document, [...specifiedRules, subscriptionsOnly, noVariables], { maxErrors: 10 });
  // graphql-js stops comparing fields for merging past its own budget, with a message that names nothing: only many fields get there.
  if (errors.some((e) => e.message === 'Validation aborted.')) return { ok: false, message: tooManyFields() };
  if (errors.length) return { ok: false, message: errors.map((e) => e.message).join(' ') };
  let plan: PayloadPlan;
  try {
    plan = compile(document, eventSchema);
  } catch (error) {
    if (error instanceof PlanProblem) return { ok: false, message: error.message };
    throw error;
  }
  const unmatched = Object.keys(plan).filter((eventType) => !anyPatternMatches(eventTypePatterns, eventType));
  if (unmatched.length) {
    return { ok: false, message: `The query selects ${unmatched.map((t) => `"${eventSchema.fieldOf.get(t)}" (${t})`).join(', ')}, which this subscription's eventTypes do not match.` };
  }
  return { ok: true, plan };
}

/** Payload queries shape deliveries: only subscription operations make sense. */
const subscriptionsOnly: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation !== 'subscription') context.reportError(new GraphQLError(`A payload query holds subscription operations only, not a ${node.operation}.`, { nodes: node }));
  },
});

/** A payload query runs with no one to supply variables. */
const noVariables: ValidationRule = (context) => ({
  VariableDefinition(node) {
    context.reportError(new GraphQLError(`Payload queries take no variables ("$${node.variable.name.value}").`, { nodes: node }));
  },
});

/** The deepest nesting of `{` and `[` (selections, and values given to directives) in `text`, strings and comments aside. */
function braceDepth(text: string): number {
  const lexer = new Lexer(new Source(text));
  let depth = 0;
  let deepest = 0;
  for (let token = lexer.advance(), count = 0; token.kind !== TokenKind.EOF && count <= MAX_PAYLOAD_QUERY_TOKENS; token = lexer.advance(), count++) {
    if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L) deepest = Math.max(deepest, ++depth);
    else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R) depth--;
  }
  return deepest;
}

class PlanProblem extends Error {}

/** What compiling may still do: fields planned, and selections visited (fragments expanded where spread). */
interface Budget {
  fields: number;
  visits: number;
}

function compile(document: DocumentNode, eventSchema: EventSchema): PayloadPlan {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const root = eventSchema.schema.getSubscriptionType()!;
  const budget: Budget = { fields: 0, visits: 0 };
  const plan: PayloadPlan = {};
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const selected of collect(definition.selectionSet, fragments, budget, false)) {
      const eventType = eventSchema.eventTypeOf.get(selected.name.value);
      if (!eventType) continue;
      const type = getNamedType(root.getFields()[selected.name.value].type);
      // Validation leaves a selection to object types only: without one the root field is JSON, and its value the whole payload.
      if (!selected.selectionSet || !isObjectType(type)) {
        plan[eventType] = null;
        continue;
      }
      plan[eventType] = merge([...(plan[eventType] ?? []), ...planSelection(selected.selectionSet, type, fragments, 1, budget, selected.name.value)]);
    }
  }
  return plan;
}

/**
 * The fields of a selection set, fragments spread and `@include`/`@skip`
 * applied (their arguments are literals: no variables). Charges `budget`
 * as it goes — every selection visited, and every field when `fields` —
 * and stops at the limit, so doubling fragments cost no more than the limit.
 */
function collect(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, budget: Budget, fields = true, into: FieldNode[] = []): FieldNode[] {
  for (const selection of selectionSet.selections) {
    if (++budget.visits > MAX_PAYLOAD_QUERY_TOKENS) throw new PlanProblem(tooManyFields());
    if (!included(selection)) continue;
    if (selection.kind === Kind.FIELD) {
      if (fields && ++budget.fields > MAX_PAYLOAD_QUERY_FIELDS) throw new PlanProblem(tooManyFields());
      into.push(selection);
    } else {
      const spread = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)!.selectionSet;
      collect(spread, fragments, budget, fields, into);
    }
  }
  return into;
}

function included(node: { directives?: readonly { name: { value: string }; arguments?: readonly { value: { kind: string; value?: unknown } }[] }[] }): boolean {
  for (const directive of node.directives ?? []) {
    const condition = directive.arguments?.[0]?.value;
    const value = condition?.kind === Kind.BOOLEAN ? condition.value === true : true;
    if (directive.name.value === 'skip' && value) return false;
    if (directive.name.value === 'include' && !value) return false;
  }
  return true;
}

function planSelection(
  selectionSet: SelectionSetNode,
  type: GraphQLObjectType,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  depth: number,
  budget: Budget,
  path: string,
): PlannedField[] {
  if (depth > MAX_PAYLOAD_QUERY_DEPTH) throw new PlanProblem(tooDeep());
  const nodes = collect(selectionSet, fragments, budget);
  // GraphQL would answer `{}` here; a plan never holds an empty selection, so `[]` is no plan's entry.
  if (nodes.length === 0) throw new PlanProblem(`The payload query selects no field of ${path}: @skip or @include leaves out every field there. Select one, or leave out ${path} itself.`);
  const planned: PlannedField[] = [];
  for (const node of nodes) {
    const key = node.alias?.value ?? node.name.value;
    if (node.name.value === '__typename') {
      planned.push({ key, typename: type.name });
      continue;
    }
    const field: PlannedField = { key, field: node.name.value };
    const child = getNamedType(type.getFields()[node.name.value].type);
    if (node.selectionSet && isObjectType(child)) field.select = planSelection(node.selectionSet, child, fragments, depth + 1, budget, `${path}.${key}`);
    planned.push(field);
  }
  return merge(planned);
}

/** Fields selected twice under one key (valid GraphQL when they agree) become one, their sub-selections merged. */
function merge(fields: readonly PlannedField[]): PlannedField[] {
  const byKey = new Map<string, PlannedField>();
  for (const field of fields) {
    const seen = byKey.get(field.key);
    if (!seen) byKey.set(field.key, { ...field });
    else if (seen.select && field.select) seen.select = merge([...seen.select, ...field.select]);
  }
  return [...byKey.values()];
}

/**
 * The `data` of a delivery shaped by `fields`: each selected property of the
 * payload, in selection order, null where the payload has none; lists are
 * mapped element by element. Charges `meter` one unit per value produced.
 */
export function shapePayload(fields: readonly PlannedField[], payload: unknown, meter: WorkMeter, limitBytes = Number.POSITIVE_INFINITY): unknown {
  return project(fields, payload, meter, { bytes: 0, limit: limitBytes });
}

/**
 * A shaped payload would be larger than its limit serialized: aliases can
 * repeat a large part of a payload, or long keys every element of a list, so
 * the result is measured as it is built, never serialized first.
 */
export class ShapedTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`the shaped payload is larger than ${limitBytes} bytes`);
  }
}

/** The shaped payload's serialized size so far in UTF-8 bytes (commas and colons counted generously), and its limit. */
interface OutputSize {
  bytes: number;
  limit: number;
}

function grow(size: OutputSize, bytes: number): void {
  size.bytes += bytes;
  if (size.bytes > size.limit) throw new ShapedTooLarge(size.limit);
}

/** Printable ASCII without `"` or `\`: serialized as it is, one byte a character. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string's serialized size in UTF-8 bytes, quotes and escapes included. */
function jsonBytes(text: string): number {
  return PLAIN.test(text) ? text.length + 2 : Buffer.byteLength(JSON.stringify(text));
}

/** Adds a payload value copied whole into the output (walked once per copy, so repeats are counted). */
function growBy(size: OutputSize, value: unknown): void {
  if (typeof value === 'string') return grow(size, jsonBytes(value));
  if (typeof value === 'number') return grow(size, String(value).length);
  if (typeof value === 'boolean') return grow(size, value ? 4 : 5);
  if (typeof value !== 'object' || value === null) return grow(size, 4);
  grow(size, 2);
  if (Array.isArray(value)) {
    for (const item of value) (grow(size, 1), growBy(size, item));
    return;
  }
  for (const key of Object.keys(value)) (grow(size, jsonBytes(key) + 2), growBy(size, (value as Record<string, unknown>)[key]));
}

function project(fields: readonly PlannedField[], value: unknown, meter: WorkMeter, size: OutputSize): Record<string, unknown> {
  meter.charge(fields.length);
  grow(size, 2);
  // No prototype: a response key like `__proto__` stays a plain key.
  const out: Record<string, unknown> = Object.create(null);
  const source = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  for (const field of fields) {
    grow(size, jsonBytes(field.key) + 2);
    if (field.typename !== undefined) {
      grow(size, jsonBytes(field.typename));
      out[field.key] = field.typename;
      continue;
    }
    const child = source && Object.hasOwn(source, field.field!) ? source[field.field!] : undefined;
    if (field.select) out[field.key] = shapeChild(field.select, child, meter, size);
    else {
      growBy(size, child ?? null);
      out[field.key] = child ?? null;
    }
  }
  return out;
}

function shapeChild(fields: readonly PlannedField[], value: unknown, meter: WorkMeter, size: OutputSize): unknown {
  if (value === null || value === undefined || typeof value !== 'object') return (grow(size, 4), null);
  if (Array.isArray(value)) {
    meter.charge(value.length);
    grow(size, 2 + value.length);
    return value.map((item) => shapeChild(fields, item, meter, size));
  }
  return project(fields, value, meter, size);
}

