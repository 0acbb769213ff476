import { GraphQLBoolean, getNamedType, isNonNullType, isObjectType, visit, type DocumentNode, type GraphQLResolveInfo } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { unstorableText } from '../domain/text.js';
import { badUserInput, userError, UserErrorCode } from './errors.js';

/** The first string (or object key) in `args` that PostgreSQL cannot store, with its path. */
export function findUnstorableText(args: Record<string, unknown>): { path: string[]; message: string } | undefined {
  // Iterative: the JSON scalar bounds depth, but nothing here should recurse over client data.
  const stack: [unknown, string[]][] = Object.entries(args).map(([name, value]) => [value, [name]]);
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = unstorableText(value);
      if (problem) return { path, message: `${path.join('.')} ${problem}.` };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], [...path, String(i)]]);
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      for (const [key, inner] of Object.entries(value)) {
        const problem = unstorableText(key);
        if (problem) return { path, message: `${path.join('.')} has a key that ${problem}.` };
        stack.push([inner, [...path, key]]);
      }
    }
  }
  return undefined;
}

/** The string literals written in a document (arguments given inline), keyed for findUnstorableText. */
export function documentStrings(document: DocumentNode): Record<string, string[]> {
  const strings: string[] = [];
  visit(document, { StringValue: (node) => void strings.push(node.value) });
  return strings.length ? { query: strings } : {};
}

function isRootField(info: GraphQLResolveInfo): boolean {
  return info.path.prev === undefined;
}

/** A mutation payload answering a refused input: the userError, no warnings, and false for a non-null Boolean such as a preview's `matches`. */
function refused(info: GraphQLResolveInfo, error: ReturnType<typeof userError>): Record<string, unknown> {
  const payload: Record<string, unknown> = { userErrors: [error], warnings: [] };
  const type = getNamedType(info.returnType);
  if (isObjectType(type)) {
    for (const field of Object.values(type.getFields())) if (isNonNullType(field.type) && field.type.ofType === GraphQLBoolean) payload[field.name] = false;
  }
  return payload;
}

/**
 * The one place where text and JSON inputs are checked for what PostgreSQL
 * cannot store, for every operation: a mutation answers with a userError
 * naming the field (nothing changed), a query or subscription with
 * BAD_USER_INPUT naming the argument. Runs after the auth check.
 */
export const storableInput: MiddlewareFn = ({ args, info }, next) => {
  if (!isRootField(info)) return next();
  const found = findUnstorableText(args);
  if (!found) return next();
  if (info.operation.operation === 'mutation') {
    return Promise.resolve(refused(info, userError(found.path, UserErrorCode.INVALID, found.message)));
  }
  throw badUserInput(found.path[0]!, found.message);
};
