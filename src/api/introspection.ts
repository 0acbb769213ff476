import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from './context.js';
import { unauthenticated } from './errors.js';

/**
 * Introspection (`__schema`, `__type`) needs an API key: with one it stays on,
 * for tools such as graphql-codegen; without one the schema is not a free
 * target for costly queries. `__typename` stays allowed. graphql-ws already
 * refuses sockets without a key.
 */

/** Whether the operation asks for `__schema` or `__type`, which only exist at the query root (fragments included). */
export function introspects(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === '__schema' || selection.name.value === '__type';
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      const fragment = fragments.get(name);
      return fragment !== undefined && visit(fragment.selectionSet);
    });
  return operation.operation === 'query' && visit(operation.selectionSet);
}

/** Refuses introspection from callers without a valid key (UNAUTHENTICATED, before execution). */
export function introspectionNeedsKey(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          const kind = contextValue.principal.kind;
          if ((kind === 'anonymous' || kind === 'invalid') && operation && introspects(document, operation)) {
            throw unauthenticated('Introspection (__schema, __type) needs an API key. Send `Authorization: Bearer <key>`.');
          }
        },
      };
    },
  };
}
