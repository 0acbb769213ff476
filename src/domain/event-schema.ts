import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  printSchema,
  type GraphQLFieldConfigMap,
  type GraphQLOutputType,
} from 'graphql';

/**
 * A tenant's event schema: a GraphQL schema generated from its event types,
 * against which payload queries are written and validated. Every event type
 * is a field of the `Subscription` root, named by camel-casing its name
 * (`billing.invoice.paid` → `billingInvoicePaid`), whose type is generated
 * from the event type's JSON Schema (`BillingInvoicePaid`):
 *
 * - `string`, and `enum`/`const` of strings → `String` (non-null when
 *   required and null is not one of the values); `integer` → `Int`
 *   (`Float` when its bounds go beyond 32 bits); `number` → `Float`;
 *   `boolean` → `Boolean`;
 * - `object` with `properties` → a nested object type named after its path
 *   (`OrderCreatedCustomer`), required properties whose type excludes null
 *   non-null; `array` → a list of its `items`; local `$ref`s are followed;
 * - anything else (no schema, unions, `anyOf`/`oneOf`/`allOf`, objects
 *   without properties or with property names GraphQL cannot spell,
 *   recursive references) → `JSON`.
 *
 * Descriptions carry over (a `$ref` without its own takes its definition's).
 * Names are made deterministically and stay put when event types are added:
 * hookgraph's own types take theirs first, then the tenant's in the order
 * they were created (`createdAt`, stamped by the database's clock; name
 * order for ties), each type its root field, its
 * type and its nested types before the next, properties in their stored
 * order; a name already taken (two event types that camel-case alike,
 * `order.created` and `order_created`, or a nested type named like another
 * event type's) gets `_2`, `_3`, … So a type created later never renames an
 * existing one's names; archived types keep theirs reserved.
 * A property name that camel-cases to nothing (`_`) names its nested type
 * with `_`; a property whose type cannot be built is `JSON`. A `$ref` target
 * is one type however many paths reach it, named after the event type's and
 * the target's key (`#/$defs/address` → `OrderShippedAddress`); an event
 * type whose mapping would build more than 5,000 fields is `JSON`.
 */

/** What of an event type the event schema needs. */
export interface EventTypeSource {
  name: string;
  description?: string | null;
  schema?: unknown;
  /** When the event type was created; earlier types keep their names (none: after all others). */
  createdAt?: Date | string | null;
  /** hookgraph's own event types, named before the tenant's. */
  system?: boolean;
  /** Archived: not in the schema, but its names stay reserved, so restoring it renames nothing. */
  archived?: boolean;
}

export interface EventSchema {
  schema: GraphQLSchema;
  sdl: string;
  /** Root field name by event type name. */
  fieldOf: ReadonlyMap<string, string>;
  /** Event type name by root field name. */
  eventTypeOf: ReadonlyMap<string, string>;
  /**
   * By event type name (archived ones too): the type names it took, its own
   * type's first, then its nested types' in the order they were named. An
   * earlier type's schema change can move a later type's names; comparing
   * these finds the types it moved.
   */
  typeNamesOf: ReadonlyMap<string, readonly string[]>;
}

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value: the part of a payload its JSON Schema does not type.',
});

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const INT32 = 2 ** 31;
/** Nesting followed when mapping a JSON Schema; deeper parts are `JSON` (save-time checks keep schemas within 64). */
const MAX_DEPTH = 32;
const RESERVED = new Set(['Query', 'Subscription', 'JSON', 'String', 'Int', 'Float', 'Boolean', 'ID']);

/** `billing.invoice-paid_v2` → `billingInvoicePaidV2`. */
export function camelCase(name: string): string {
  const parts = name.split(/[._-]+/).filter(Boolean);
  return parts.map((part, i) => (i === 0 ? part : part[0].toUpperCase() + part.slice(1))).join('');
}

/**
 * The part of a type name made from `text` (a property or event type name):
 * camel-cased, first letter up, what GraphQL cannot spell dropped, `_` when
 * nothing is left (`_`, `-`). Never empty, only name characters: valid after
 * any prefix that is a name, and at the start when it starts with a letter.
 */
export function typeNamePart(text: string): string {
  const camel = camelCase(text);
  const part = (camel.slice(0, 1).toUpperCase() + camel.slice(1)).replace(/[^_0-9A-Za-z]/g, '');
  return part || '_';
}

/** A root field for an event type's name: its camel case, made a GraphQL name if it is not one (names starting with a digit or `__`). */
function rootFieldName(name: string): string {
  const camel = camelCase(name).replace(/[^_0-9A-Za-z]/g, '');
  return /^[A-Za-z]/.test(camel) ? camel : `_${camel.replace(/^_+/, '')}`;
}

/** The order names are given in: system types, then by creation (none last), then name. */
function namingOrder(a: EventTypeSource, b: EventTypeSource): number {
  if (Boolean(a.system) !== Boolean(b.system)) return a.system ? -1 : 1;
  const at = createdTime(a);
  const bt = createdTime(b);
  if (at !== bt) return at < bt ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function createdTime(eventType: EventTypeSource): number {
  const time = eventType.createdAt == null ? NaN : new Date(eventType.createdAt).getTime();
  return Number.isNaN(time) ? Infinity : time;
}

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON Schema types of `node` other than null, and whether null is one of them. */
function typesOf(node: JsonObject): { types: string[]; nullable: boolean } {
  const raw = node.type;
  const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((t): t is string => typeof t === 'string') : [];
  // `properties` without a `type` describes an object (that may also be anything else).
  if (list.length === 0 && isObject(node.properties)) return { types: ['object'], nullable: true };
  return { types: list.filter((t) => t !== 'null'), nullable: list.length === 0 || list.includes('null') };
}

/**
 * Fields one event type's mapping may build; past it the event type is `JSON`.
 * `$ref` targets are built once, so a schema's size bounds the work, but this
 * keeps any schema, stored before or after, from costing the api more.
 */
const MAX_FIELDS_PER_EVENT_TYPE = 5_000;

class FieldBudgetExceeded extends Error {}

/** Maps one event type's JSON Schema; `taken` (type names in use) is shared by every event type of the schema. */
class Builder {
  /** One output type per `$ref` target: definitions reached by many paths are one GraphQL type, not one per path (which grows exponentially). */
  private readonly refTypes = new Map<string, { type: GraphQLOutputType; nullable: boolean }>();
  private fields = 0;
  /** How many times a part was turned into JSON for recursion or depth. */
  private cutShort = 0;
  /** The event type's own type name, once claimed: `$ref` targets are named after it and their key (`OrderShippedAddress`). */
  rootName: string | undefined;
  /** The names this builder took, in order. */
  readonly claimed: string[] = [];

  constructor(
    private readonly root: unknown,
    private readonly taken: Set<string>,
  ) {}

  claim(wanted: string): string {
    let name = wanted;
    for (let n = 2; this.taken.has(name); n++) name = `${wanted}_${n}`;
    this.taken.add(name);
    this.claimed.push(name);
    return name;
  }

  /** Follows a local `$ref` (`#/…`); undefined when it does not resolve. */
  resolve(ref: string): unknown {
    if (ref === '#') return this.root;
    if (!ref.startsWith('#/')) return undefined;
    let node: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
      node = node[key];
    }
    return node;
  }

  /** The output type of `node`, named `name` if it is an object; `following` holds the `$ref`s being expanded (recursion → JSON). */
  type(node: unknown, name: string, depth: number, following: ReadonlySet<string>): { type: GraphQLOutputType; nullable: boolean } {
    if (!isObject(node)) return { type: JSONScalar, nullable: true };
    if (depth > MAX_DEPTH) return (this.cutShort++, { type: JSONScalar, nullable: true });
    if (typeof node.$ref === 'string') {
      if (following.has(node.$ref)) return (this.cutShort++, { type: JSONScalar, nullable: true });
      const built = this.refTypes.get(node.$ref);
      if (built) return built;
      const cutBefore = this.cutShort;
      const key = node.$ref.slice(node.$ref.lastIndexOf('/') + 1);
      const targetName = this.rootName && key ? `${this.rootName}${typeNamePart(decodeURIComponent(key))}` : name;
      const type = this.type(this.resolve(node.$ref), GRAPHQL_NAME.test(targetName) ? targetName : name, depth + 1, new Set([...following, node.$ref]));
      // Kept for the other paths only if nothing in it was cut short (recursion or depth turned to JSON): what is
      // cut short on this path may be whole on another.
      if (this.cutShort === cutBefore) this.refTypes.set(node.$ref, type);
      return type;
    }
    const { types, nullable } = typesOf(node);
    // The values are all there is: null only when one of them is null.
    if (Array.isArray(node.enum)) return { type: node.enum.every((v) => typeof v === 'string') ? GraphQLString : JSONScalar, nullable: node.enum.includes(null) };
    if (node.const !== undefined) return { type: typeof node.const === 'string' ? GraphQLString : JSONScalar, nullable: node.const === null };
    if (types.length !== 1 || node.anyOf || node.oneOf || node.allOf) return { type: JSONScalar, nullable: true };
    switch (types[0]) {
      case 'string':
        return { type: GraphQLString, nullable };
      case 'boolean':
        return { type: GraphQLBoolean, nullable };
      case 'number':
        return { type: GraphQLFloat, nullable };
      case 'integer':
        return { type: fitsInt32(node) ? GraphQLInt : GraphQLFloat, nullable };
      case 'array': {
        const items = isObject(node.items) ? this.type(node.items, name, depth + 1, following) : { type: JSONScalar, nullable: true };
        return { type: new GraphQLList(items.nullable ? items.type : new GraphQLNonNull(items.type)), nullable };
      }
      case 'object':
        return { type: this.object(node, name, depth, following) ?? JSONScalar, nullable };
      default:
        return { type: JSONScalar, nullable: true };
    }
  }

  /** `type`, or `JSON` when that fails: one property the mapping cannot build must not take down the tenant's schema. */
  typeOrJSON(node: unknown, name: string, depth: number, following: ReadonlySet<string>): { type: GraphQLOutputType; nullable: boolean } {
    try {
      return this.type(node, name, depth, following);
    } catch (error) {
      // Over budget is the whole event type's failure, not this property's.
      if (error instanceof FieldBudgetExceeded) throw error;
      return { type: JSONScalar, nullable: true };
    }
  }

  /** The description of `node`, or of what its `$ref`s lead to when it has none. */
  description(node: unknown): string | undefined {
    const seen = new Set<string>();
    while (isObject(node) && typeof node.description !== 'string' && typeof node.$ref === 'string' && !seen.has(node.$ref)) {
      seen.add(node.$ref);
      node = this.resolve(node.$ref);
    }
    return descriptionOf(node);
  }

  /**
   * An object type for an object schema with properties whose names GraphQL
   * can spell; undefined otherwise. `claimed`: `name` is already reserved
   * for it (an event type's own type).
   */
  object(node: JsonObject, name: string, depth: number, following: ReadonlySet<string>, claimed = false): GraphQLObjectType | undefined {
    const properties = isObject(node.properties) ? node.properties : undefined;
    const names = properties ? Object.keys(properties) : [];
    if (!properties || names.length === 0 || !names.every((key) => GRAPHQL_NAME.test(key) && !key.startsWith('__'))) return undefined;
    const required = new Set(Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === 'string') : []);
    const typeName = claimed ? name : this.claim(name);
    // Fields are built now, in order, so nested type names are claimed deterministically.
    const fields: GraphQLFieldConfigMap<unknown, unknown> = {};
    for (const key of names) {
      if (++this.fields > MAX_FIELDS_PER_EVENT_TYPE) throw new FieldBudgetExceeded();
      const child = properties[key];
      const nested = `${typeName}${typeNamePart(key)}`;
      const { type, nullable } = GRAPHQL_NAME.test(nested) ? this.typeOrJSON(child, nested, depth + 1, following) : { type: JSONScalar, nullable: true };
      fields[key] = { type: required.has(key) && !nullable ? new GraphQLNonNull(type) : type, description: this.description(child) };
    }
    return new GraphQLObjectType({ name: typeName, description: descriptionOf(node), fields });
  }
}

function fitsInt32(node: JsonObject): boolean {
  const bounds = [node.minimum, node.maximum, node.exclusiveMinimum, node.exclusiveMaximum].filter((b): b is number => typeof b === 'number');
  return bounds.every((b) => b >= -INT32 && b < INT32);
}

function descriptionOf(node: unknown): string | undefined {
  return isObject(node) && typeof node.description === 'string' ? node.description : undefined;
}

/** The event schema of these event types (archived ones only hold their names). */
export function buildEventSchema(eventTypes: readonly EventTypeSource[]): EventSchema {
  const ordered = [...eventTypes].sort(namingOrder);
  const fieldOf = new Map<string, string>();
  const eventTypeOf = new Map<string, string>();
  const typeNamesOf = new Map<string, readonly string[]>();
  const fields = new Set<string>();
  const taken = new Set(RESERVED);
  const subscription: GraphQLFieldConfigMap<unknown, unknown> = {};
  // Each event type takes all its names (root field, type, nested types) before the next one,
  // so a type that comes later in the order never moves an earlier one's names.
  for (const eventType of ordered) {
    const wanted = rootFieldName(eventType.name);
    let field = wanted;
    for (let n = 2; fields.has(field); n++) field = `${wanted}_${n}`;
    fields.add(field);
    const builder = new Builder(eventType.schema, taken);
    const typeName = builder.claim(wanted[0].toUpperCase() + wanted.slice(1));
    builder.rootName = typeName;
    let type: GraphQLOutputType = JSONScalar;
    try {
      let node = eventType.schema;
      if (isObject(node) && typeof node.$ref === 'string') node = builder.resolve(node.$ref);
      if (isObject(node) && typesOf(node).types.length === 1 && typesOf(node).types[0] === 'object') type = builder.object(node, typeName, 0, new Set(), true) ?? JSONScalar;
    } catch {
      // What the mapping cannot build is JSON, for this event type only.
    }
    typeNamesOf.set(eventType.name, builder.claimed);
    // An archived type's types are built (their names taken) but unreachable, so left out of the schema.
    if (eventType.archived) continue;
    fieldOf.set(eventType.name, field);
    eventTypeOf.set(field, eventType.name);
    subscription[field] = {
      type: new GraphQLNonNull(type),
      description: eventType.description || `A \`${eventType.name}\` event's payload.`,
    };
  }
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      description: 'Payload queries are subscription documents; this root only lists the event types.',
      fields: { eventTypes: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))), description: 'The event types of this schema, by name.' } },
    }),
    subscription: fieldOf.size
      ? new GraphQLObjectType({ name: 'Subscription', description: "One field per event type: select the parts of its payload a webhook's `data` carries.", fields: subscription })
      : undefined,
    types: [JSONScalar],
  });
  return { schema, sdl: printSchema(schema), fieldOf, eventTypeOf, typeNamesOf };
}
