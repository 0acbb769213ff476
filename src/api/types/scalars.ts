import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';

/**
 * JSON nested deeper than this is refused when the value is read, before
 * anything recurses over it (JSON.stringify, the database driver, ajv).
 */
export const MAX_JSON_DEPTH = 64;

/** Whether arrays/objects nest more than MAX_JSON_DEPTH levels (`[[1]]` is 2), counted without recursion. */
function tooDeep(root: unknown, children: (node: unknown) => unknown[] | undefined): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [node, level] = stack.pop()!;
    const inner = children(node);
    if (!inner) continue;
    if (level > MAX_JSON_DEPTH) return true;
    for (const child of inner) stack.push([child, level + 1]);
  }
  return false;
}

/** Children of a container, undefined for a leaf. */
const valueChildren = (node: unknown) => (node !== null && typeof node === 'object' ? Object.values(node) : undefined);
const literalChildren = (node: unknown) => {
  const ast = node as ValueNode;
  if (ast.kind === Kind.LIST) return [...ast.values];
  if (ast.kind === Kind.OBJECT) return ast.fields.map((f) => f.value);
  return undefined;
};

function deepError(): GraphQLError {
  return new GraphQLError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels.`, { extensions: { code: 'BAD_USER_INPUT' } });
}

function refuseDeep<T>(value: T): T {
  if (tooDeep(value, valueChildren)) throw deepError();
  return value;
}

/** Arbitrary JSON values (payloads, filters, headers, metadata), at most MAX_JSON_DEPTH deep. */
export const JSONScalar = new GraphQLScalarType({
  ...JSONResolver.toConfig(),
  parseValue: (value) => refuseDeep(value),
  parseLiteral: (ast, variables) => {
    if (tooDeep(ast, literalChildren)) throw deepError();
    // Variables inside the literal are measured with the parsed value.
    return refuseDeep(JSONResolver.parseLiteral(ast, variables));
  },
});
/** RFC 3339 timestamps. */
export const DateTimeScalar = DateTimeResolver;
