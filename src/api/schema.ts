import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authChecker } from './auth.js';
import { storableInput } from './input-guard.js';
import { RESOLVERS } from './resolvers/index.js';
import { DateTimeScalar } from './types/scalars.js';

export async function createSchema(pubSub: PubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    authChecker,
    authMode: 'error',
    pubSub,
    // Input is validated by the resolvers, which answer with userErrors naming the field.
    validate: false,
    globalMiddlewares: [storableInput],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
  });
}

/** The schema as committed in `schema/schema.graphql`: sorted, so diffs stay small. */
export function printCanonicalSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
