import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authChecker } from './auth.js';
import { RESOLVERS } from './resolvers/index.js';
import { DateTimeScalar } from './types/scalars.js';

/** type-graphql has no option for the root types' descriptions, so they are set on the built schema. */
const ROOT_DESCRIPTIONS = {
  query: "Reads of the caller's tenant; every list is a cursor connection, newest first.",
  mutation: "Changes; bad input is answered in the payload's `userErrors`, naming the field, and changes nothing.",
  subscription: "Live updates of the caller's tenant, over graphql-ws on the `/graphql` path.",
};

export async function createSchema(pubSub: PubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    authChecker,
    authMode: 'error',
    pubSub,
    // Input is validated by the resolvers, which answer with userErrors naming the field.
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
  });
  for (const [root, type] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const) {
    if (type) type.description = ROOT_DESCRIPTIONS[root];
  }
  return schema;
}

/** The schema as committed in `schema/schema.graphql`: sorted, so diffs stay small. */
export function printCanonicalSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
