/**
 * Reading the tenant's event schema (`eventSchema.sdl`) in the console:
 * which `Subscription` field an event type is, and the GraphQL type its
 * payloads get, as SDL. Parsed with graphql-js, not pattern-matched; loaded
 * on demand (import()) so graphql-js stays out of the main bundle.
 */

import { Kind, parse, print, type DefinitionNode, type ObjectTypeDefinitionNode, type TypeNode } from 'graphql';

/** `billing.invoice-paid_v2` → `billingInvoicePaidV2`, as the server names root fields. */
export function camelCase(name: string): string {
  const parts = name.split(/[._-]+/).filter(Boolean);
  return parts.map((part, i) => (i === 0 ? part : part[0]!.toUpperCase() + part.slice(1))).join('');
}

/**
 * Root field name by event type name, made as the server makes them: the
 * non-archived event types in name order, a camel-cased name already taken
 * gets `_2`, `_3`, … (`order.created` and `order_created`).
 */
export function rootFieldNames(eventTypeNames: readonly string[]): Map<string, string> {
  const fieldOf = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of [...eventTypeNames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const wanted = camelCase(name);
    let field = wanted;
    for (let n = 2; taken.has(field); n++) field = `${wanted}_${n}`;
    taken.add(field);
    fieldOf.set(name, field);
  }
  return fieldOf;
}

export interface GraphqlType {
  /** The root field and its type, e.g. `orderCreated: OrderCreated!`. */
  field: string;
  /** The field's object type and the object types it reaches, as SDL; empty when the payload is `JSON`. */
  sdl: string;
}

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

/**
 * The GraphQL type of each of these (non-archived) event types, read from the
 * event schema's `Subscription` field for it; an event type the SDL has no
 * field for is left out.
 */
export function graphqlTypes(sdl: string, eventTypeNames: readonly string[]): Map<string, GraphqlType> {
  let definitions: readonly DefinitionNode[];
  try {
    definitions = parse(sdl).definitions;
  } catch {
    return new Map();
  }
  const objects = new Map<string, ObjectTypeDefinitionNode>();
  for (const definition of definitions) if (definition.kind === Kind.OBJECT_TYPE_DEFINITION) objects.set(definition.name.value, definition);
  const rootFields = objects.get('Subscription')?.fields ?? [];
  const types = new Map<string, GraphqlType>();
  for (const [eventType, rootField] of rootFieldNames(eventTypeNames)) {
    const field = rootFields.find((f) => f.name.value === rootField);
    if (!field) continue;
    // The root type first, then the types it references, each once, in the order they are reached.
    const reached: ObjectTypeDefinitionNode[] = [];
    const queue = [namedType(field.type)];
    const seen = new Set(queue);
    while (queue.length) {
      const object = objects.get(queue.shift()!);
      if (!object) continue;
      reached.push(object);
      for (const child of object.fields ?? []) {
        const name = namedType(child.type);
        if (!seen.has(name)) seen.add(name), queue.push(name);
      }
    }
    types.set(eventType, { field: `${rootField}: ${print(field.type)}`, sdl: reached.map((object) => print(object)).join('\n\n') });
  }
  return types;
}
