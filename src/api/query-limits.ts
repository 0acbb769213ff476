import {
  getNamedType,
  getOperationAST,
  TypeInfo,
  ValidationContext,
  type DocumentNode,
  getNullableType,
  GraphQLError,
  isInputObjectType,
  isEnumType,
  isInterfaceType,
  isListType,
  isObjectType,
  isUnionType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { RESPONSE_BODY_LIMIT } from '../delivery/sender.js';
import { MASKED_VALUE } from '../domain/subscription-headers.js';
import { FILTER_LIMITS } from '../domain/filter.js';
import { MAX_HEADER_NAME, MAX_HEADER_VALUE, MAX_HEADERS } from '../domain/headers.js';
import { MAX_SCHEMA_BYTES } from '../domain/json-schema.js';
import { MAX_EVENT_TYPE_NAME_LENGTH } from '../domain/patterns.js';
import { MAX_DESCRIPTION, MAX_METADATA_BYTES, MAX_PATTERNS } from './management/subscription-fields.js';
import { MAX_REPLAY } from './resolvers/LiveResolver.js';

/*
 * Limits on one GraphQL operation, checked before it runs (and, over HTTP,
 * before authentication): a caller without a key must not be able to make
 * the api slow for everyone, and a tenant must not be able to make it slow
 * for the others. The same rules run over graphql-ws.
 */

/** Deepest nesting of fields (event → deliveries → event → …). */
export const MAX_DEPTH = 12;
/**
 * Deepest nesting under `__schema`/`__type`: the standard introspection query
 * nests 14 levels (a type reference's `ofType` chain); graphql's own
 * MaxIntrospectionDepthRule bounds the costly `fields`/`inputFields` cycles.
 */
export const MAX_INTROSPECTION_DEPTH = 16;
/** Estimated fields resolved by one operation: every list multiplies its selection by its estimated size. */
export const MAX_COST = 50_000;
/** Aliased fields written in one operation (a fragment counts once per spread, a list does not multiply): aliases are how one request asks for many. */
export const MAX_ALIASES = 100;
/** Fields at the root of one operation, fragments included: each is its own query or mutation. */
export const MAX_ROOT_FIELDS = 20;
/**
 * An operation may be estimated at up to this many times the answer limit:
 * the estimate weighs every large field at its size limit, which real data
 * rarely reaches, so a full page of payloads (`events(first: 100) { nodes {
 * payload } }`) still runs; the answer itself stays capped by the response check.
 */
export const ESTIMATE_FACTOR = 4;
/** Operations open at once on one WebSocket (subscriptions and queries); more are refused with TOO_MANY_OPERATIONS. */
export const MAX_OPERATIONS_PER_SOCKET = 50;
/*
 * Configurable: HOOKGRAPH_MAX_RESPONSE_BYTES (largest answer, 8 MiB) and
 * HOOKGRAPH_MAX_SOCKETS_PER_KEY (open WebSockets per key, 20), in config.ts.
 */

/** Page size of a connection without `first`, and the largest `first` accepted (see types/connection.ts). */
const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;
/** Estimated length of a list field not named in LIST_SIZES. */
const DEFAULT_LIST_SIZE = 20;
/** Estimated serialized size of a scalar field not named in byteWeights (its name, quotes and a short value). */
const DEFAULT_SCALAR_BYTES = 64;
/** Braces and key of an object in the answer. */
const OBJECT_BYTES = 32;

/** Estimated lengths of list fields of hookgraph's own types (introspection's are measured on the schema). */
const LIST_SIZES: Record<string, number> = {
  // The default retry schedule makes 8 attempts; manual retries add a few.
  'Delivery.attempts': 10,
  // Up to MAX_BATCH events, but the answer echoes the request, whose payloads total at most the
  // request body limit (6 MB): weighed as 100 events, a batch can read back its payloads.
  'EventsPublishPayload.events': 100,
};

/**
 * Fields whose work is in the database rather than in the answer, counted as
 * this many fields: `deliveryStats` sorts up to a retention period of one
 * tenant's deliveries, so an operation may ask for it at most 4 times.
 */
const FIELD_COSTS: Record<string, number> = {
  'Query.deliveryStats': 10_000,
};

/** What the caller must consider, beyond the schema, to size an answer. */
export interface QueryLimitOptions {
  /** Largest event payload (HOOKGRAPH_MAX_PAYLOAD_BYTES): `Event.payload` weighs this much. */
  maxPayloadBytes: number;
  /** Largest answer (HOOKGRAPH_MAX_RESPONSE_BYTES): an operation estimated above ESTIMATE_FACTOR times it is refused. */
  maxResponseBytes: number;
}

/**
 * Serialized size of large scalar fields, by their limits: these make an
 * answer big, whatever the count of fields.
 */
function byteWeights(options: QueryLimitOptions): Record<string, number> {
  const headers = MAX_HEADERS * (MAX_HEADER_NAME + MAX_HEADER_VALUE + 6);
  return {
    'Event.payload': options.maxPayloadBytes,
    'DeliveryAttempt.responseBody': RESPONSE_BODY_LIMIT,
    // Custom headers plus the ones hookgraph adds (content-type, webhook-id, signatures, …).
    'DeliveryAttempt.requestHeaders': headers + 2048,
    // Bounded by the HTTP client's header size limit (16 KiB).
    'DeliveryAttempt.responseHeaders': 16 * 1024,
    // Names only: every value reads as MASKED_VALUE.
    'WebhookSubscription.headers': MAX_HEADERS * (MAX_HEADER_NAME + MASKED_VALUE.length + 6),
    'WebhookSubscription.filter': FILTER_LIMITS.maxBytes,
    'WebhookSubscription.metadata': MAX_METADATA_BYTES,
    'WebhookSubscription.description': MAX_DESCRIPTION,
    'WebhookSubscription.eventTypes': MAX_PATTERNS * (MAX_EVENT_TYPE_NAME_LENGTH + 3),
    'EventType.schema': MAX_SCHEMA_BYTES,
  };
}

/**
 * Introspection's lists, sized by the schema itself: `types` is every type;
 * `fields`, `args`, `inputFields`, `enumValues`, `interfaces` and
 * `possibleTypes` are the average length over the types (or fields) that have
 * them, rounded up. Averages, not maxima, so that the standard introspection
 * query of tools such as graphql-codegen fits; a hostile nesting that the
 * averages underestimate is still bounded by the depth limit and the
 * response cap.
 */
const introspectionCache = new WeakMap<GraphQLSchema, Record<string, number>>();

function introspectionSizes(schema: GraphQLSchema): Record<string, number> {
  const cached = introspectionCache.get(schema);
  if (cached) return cached;
  const average = (total: number, count: number) => Math.max(1, Math.ceil(total / Math.max(count, 1)));
  const types = Object.values(schema.getTypeMap());
  let withFields = 0, fields = 0, args = 0, inputTypes = 0, inputFields = 0, enums = 0, enumValues = 0, interfaces = 0, abstract = 0, possible = 0;
  for (const type of types) {
    if (isObjectType(type) || isInterfaceType(type)) {
      const list = Object.values(type.getFields());
      withFields++;
      fields += list.length;
      for (const field of list) args += field.args.length;
      interfaces += type.getInterfaces().length;
    }
    if (isInterfaceType(type) || isUnionType(type)) {
      abstract++;
      possible += schema.getPossibleTypes(type).length;
    }
    if (isInputObjectType(type)) {
      inputTypes++;
      inputFields += Object.keys(type.getFields()).length;
    }
    if (isEnumType(type)) {
      enums++;
      enumValues += type.getValues().length;
    }
  }
  const directives = schema.getDirectives();
  const sizes = {
    '__Schema.types': types.length,
    '__Schema.directives': directives.length,
    '__Type.fields': average(fields, withFields),
    '__Type.interfaces': average(interfaces, withFields),
    '__Type.possibleTypes': average(possible, abstract),
    '__Type.enumValues': average(enumValues, enums),
    '__Type.inputFields': average(inputFields, inputTypes),
    '__Field.args': average(args, fields),
    '__Directive.args': average(directives.reduce((n, d) => n + d.args.length, 0), directives.length),
  };
  introspectionCache.set(schema, sizes);
  return sizes;
}

interface Measure {
  /** Nesting of object fields. */
  depth: number;
  /** Nesting under `__schema`/`__type` (not counted in `depth`). */
  introspectionDepth: number;
  /** Estimated fields resolved. */
  cost: number;
  /** Estimated serialized size of the answer. */
  bytes: number;
  /** Aliased fields. */
  aliases: number;
  /** Fields directly in this selection set (fragments expanded). */
  width: number;
}

const EMPTY: Measure = { depth: 0, introspectionDepth: 0, cost: 0, bytes: 0, aliases: 0, width: 0 };

function pageSize(field: FieldNode): number {
  const first = field.arguments?.find((a) => a.name.value === 'first');
  if (!first || first.value.kind === Kind.NULL) return DEFAULT_PAGE;
  if (first.value.kind === Kind.INT) return Math.min(Math.max(Number(first.value.value), 0), MAX_PAGE);
  return MAX_PAGE; // a variable counts as the largest page
}

function given(field: FieldNode, name: string): boolean {
  const argument = field.arguments?.find((a) => a.name.value === name);
  return argument !== undefined && argument.value.kind !== Kind.NULL;
}

function fieldDefinition(schema: GraphQLSchema, parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === '__typename') return TypeNameMetaFieldDef;
  if (parent && parent === schema.getQueryType()) {
    if (name === '__schema') return SchemaMetaFieldDef;
    if (name === '__type') return TypeMetaFieldDef;
  }
  if (isObjectType(parent) || isInterfaceType(parent)) return parent.getFields()[name];
  return undefined;
}

/** A Relay connection: its `nodes`/`edges` are the page, already counted by the connection field's `first`. */
function isConnection(type: GraphQLNamedType | undefined): boolean {
  return isObjectType(type) && 'pageInfo' in type.getFields();
}

function analyser(context: ValidationContext, weights: Record<string, number>) {
  const schema = context.getSchema();
  const listSizes = { ...LIST_SIZES, ...introspectionSizes(schema) };
  const subscriptionType = schema.getSubscriptionType();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measured = new Map<string, Measure>();
  const inProgress = new Set<string>();
  /** Weighted fields seen, to name them when the byte estimate is over. */
  const heavy = new Set<string>();

  /** How many times a field's selection is repeated in the answer. */
  const times = (node: FieldNode, definition: GraphQLField<unknown, unknown>, parent: GraphQLNamedType | undefined, key: string): number => {
    if (definition.args.some((a) => a.name === 'first')) return pageSize(node);
    // deliveryUpdated(since:) sends up to MAX_REPLAY deliveries before the live ones.
    if (parent === subscriptionType && definition.args.some((a) => a.name === 'since') && given(node, 'since')) return MAX_REPLAY;
    if (!isListType(getNullableType(definition.type))) return 1;
    if (isConnection(parent)) return 1;
    return listSizes[key] ?? DEFAULT_LIST_SIZE;
  };

  const field = (node: FieldNode, parent: GraphQLNamedType | undefined): Measure => {
    const aliases = node.alias && node.alias.value !== node.name.value ? 1 : 0;
    const definition = fieldDefinition(schema, parent, node.name.value);
    // Unknown fields are reported by graphql's own rules.
    if (!definition) return { ...EMPTY, cost: 1, bytes: DEFAULT_SCALAR_BYTES, aliases, width: 1 };
    const key = `${parent?.name}.${node.name.value}`;
    const n = times(node, definition, parent, key);
    if (!node.selectionSet) {
      const weight = weights[key];
      if (weight !== undefined) heavy.add(key);
      return { ...EMPTY, cost: 1, bytes: weight ?? n * DEFAULT_SCALAR_BYTES, aliases, width: 1 };
    }
    const inner = selectionSet(node.selectionSet, getNamedType(definition.type));
    const introspection = definition === SchemaMetaFieldDef || definition === TypeMetaFieldDef;
    return {
      depth: introspection ? 0 : inner.depth + 1,
      introspectionDepth: introspection ? inner.depth + 1 : inner.introspectionDepth,
      cost: 1 + (FIELD_COSTS[key] ?? 0) + n * inner.cost,
      bytes: OBJECT_BYTES + n * inner.bytes,
      aliases: aliases + inner.aliases, // an alias inside a list is one field of each item, not another request
      width: 1,
    };
  };

  const selectionSet = (set: SelectionSetNode, parent: GraphQLNamedType | undefined): Measure => {
    const total = { ...EMPTY };
    for (const selection of set.selections) {
      let m: Measure;
      if (selection.kind === Kind.FIELD) m = field(selection, parent);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        m = selectionSet(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) ?? undefined : parent);
      } else m = fragment(selection.name.value);
      total.depth = Math.max(total.depth, m.depth);
      total.introspectionDepth = Math.max(total.introspectionDepth, m.introspectionDepth);
      total.cost += m.cost;
      total.bytes += m.bytes;
      total.aliases += m.aliases;
      total.width += m.width;
    }
    return total;
  };

  // Fragments are measured once each (by their type condition), so hostile fragment fan-out stays linear.
  const fragment = (name: string): Measure => {
    const known = measured.get(name);
    if (known) return known;
    const definition = fragments.get(name);
    // Unknown or cyclic fragments are reported by graphql's own rules.
    if (!definition || inProgress.has(name)) return EMPTY;
    inProgress.add(name);
    const m = selectionSet(definition.selectionSet, schema.getType(definition.typeCondition.name.value) ?? undefined);
    inProgress.delete(name);
    measured.set(name, m);
    return m;
  };

  return { selectionSet, heavy };
}

/**
 * The estimated answer size of one operation of `document` (already
 * validated), in bytes: the same measure the rule applies. Used to skip
 * serializing answers twice for the size cap when they are certainly small.
 */
export function estimateAnswerBytes(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, options: QueryLimitOptions): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return Infinity;
  const context = new ValidationContext(schema, document, new TypeInfo(schema), () => undefined);
  const { selectionSet } = analyser(context, byteWeights(options));
  return selectionSet(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined).bytes;
}

const MiB = 1024 * 1024;
/** 8388608 → "8 MiB", 262144 → "256 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${Number((bytes / MiB).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

/**
 * One validation rule for every limit: depth, estimated fields (cost),
 * estimated answer size, aliases and root fields. Each operation is measured
 * once; every limit it exceeds is reported.
 */
export function queryLimits(options: QueryLimitOptions): ValidationRule {
  const weights = byteWeights(options);
  const maxEstimate = ESTIMATE_FACTOR * options.maxResponseBytes;
  return (context: ValidationContext) => {
    const { selectionSet, heavy } = analyser(context, weights);
    const schema = context.getSchema();
    return {
      OperationDefinition(node) {
        const m = selectionSet(node.selectionSet, schema.getRootType(node.operation) ?? undefined);
        const problems: string[] = [];
        if (m.depth > MAX_DEPTH) problems.push(`Query is nested ${m.depth} levels deep, more than ${MAX_DEPTH}; query nested objects separately.`);
        if (m.introspectionDepth > MAX_INTROSPECTION_DEPTH) {
          problems.push(`Introspection is nested ${m.introspectionDepth} levels deep, more than ${MAX_INTROSPECTION_DEPTH}.`);
        }
        if (m.cost > MAX_COST) {
          problems.push(`Query may resolve about ${m.cost} fields, more than ${MAX_COST}; ask for smaller pages (\`first\`) or fewer nested lists.`);
        }
        if (m.bytes > maxEstimate) {
          const large = [...heavy].slice(0, 3).map((key) => `${key} ${formatBytes(weights[key])}`);
          problems.push(
            `Query may answer about ${formatBytes(m.bytes)}, more than ${formatBytes(maxEstimate)} (${ESTIMATE_FACTOR} × the ${formatBytes(options.maxResponseBytes)} answer limit)` +
              (large.length ? ` (large fields count at their size limit: ${large.join(', ')})` : '') +
              '; ask for smaller pages (`first`) or fewer large fields.',
          );
        }
        if (m.aliases > MAX_ALIASES) problems.push(`Operation has ${m.aliases} aliased fields, more than ${MAX_ALIASES}; send separate requests.`);
        if (m.width > MAX_ROOT_FIELDS) problems.push(`Operation has ${m.width} root fields, more than ${MAX_ROOT_FIELDS}; send separate requests.`);
        for (const message of problems) {
          context.reportError(new GraphQLError(message, { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
        }
      },
    };
  };
}
