import { GraphQLError, Kind, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import type { Logger } from '../log.js';

/** Stable codes of `userErrors`; clients may switch on them. */
export enum UserErrorCode {
  /** A required value is missing or empty. */
  REQUIRED = 'REQUIRED',
  /** A value has the wrong shape or is out of range. */
  INVALID = 'INVALID',
  /** A value is longer or larger than allowed. */
  TOO_LARGE = 'TOO_LARGE',
  /** Something with that identity already exists. */
  TAKEN = 'TAKEN',
  /** The id or name does not exist (or belongs to another tenant). */
  NOT_FOUND = 'NOT_FOUND',
  /** An event type name is not dot-separated lowercase segments. */
  INVALID_EVENT_TYPE_NAME = 'INVALID_EVENT_TYPE_NAME',
  /** The name is in the `hookgraph` namespace, reserved for hookgraph's own event types. */
  RESERVED_NAME = 'RESERVED_NAME',
  /** An event type pattern is malformed. */
  INVALID_PATTERN = 'INVALID_PATTERN',
  /** A JSON Schema does not compile. */
  INVALID_SCHEMA = 'INVALID_SCHEMA',
  /** A payload does not satisfy its event type's JSON Schema. */
  SCHEMA_MISMATCH = 'SCHEMA_MISMATCH',
  /** A payload query does not parse, does not validate against the event schema, or selects an event type the subscription does not receive. */
  INVALID_PAYLOAD_QUERY = 'INVALID_PAYLOAD_QUERY',
  /** A payload filter is malformed. */
  INVALID_FILTER = 'INVALID_FILTER',
  /** A url is malformed or not http(s). */
  INVALID_URL = 'INVALID_URL',
  /** A url's host resolves to an address the outbound guard refuses. */
  FORBIDDEN_TARGET = 'FORBIDDEN_TARGET',
  /** A custom header may not be set. */
  FORBIDDEN_HEADER = 'FORBIDDEN_HEADER',
  /** The event type is archived. */
  ARCHIVED = 'ARCHIVED',
  /** The operation does not apply in the object's current state. */
  INVALID_STATE = 'INVALID_STATE',
}
registerEnumType(UserErrorCode, { name: 'UserErrorCode', description: 'Stable codes of user errors.' });

@ObjectType({ description: 'A problem with the input; nothing was changed.' })
export class UserError {
  @Field(() => [String], { nullable: true, description: 'Path to the input field, e.g. ["input", "url"].' })
  field!: string[] | null;

  @Field({ description: 'What is wrong and how to fix it, in English, for people.' })
  message!: string;

  @Field(() => String, { description: 'One of UserErrorCode.' })
  code!: UserErrorCode;
}

export function userError(field: (string | number)[] | null, code: UserErrorCode, message: string): UserError {
  return Object.assign(new UserError(), { field: field?.map(String) ?? null, code, message });
}

/** Thrown inside a mutation to abort it and return the error as a userError. */
export class UserInputFailure extends Error {
  constructor(readonly errors: UserError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

export function unauthenticated(message = 'Missing or invalid API key. Send `Authorization: Bearer <key>`.'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message = 'This key may not perform this operation.'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

/** Bad arguments to a query (queries have no userErrors): names the argument. */
export function badUserInput(argument: string, message: string): GraphQLError {
  return new GraphQLError(`${argument}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

/**
 * Runs a mutation body; a UserInputFailure thrown inside becomes the payload's
 * userErrors, with every other field null.
 */
export async function withUserErrors<T extends { userErrors: UserError[] }>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UserInputFailure) return { userErrors: error.errors } as T;
    throw error;
  }
}

export interface ErrorFormatting {
  /** Hide internal messages and stack traces (unless `NODE_ENV=development`). */
  hideDetails: boolean;
  log: Logger;
}

/**
 * How every GraphQL error leaves hookgraph, over HTTP (Apollo's `formatError`)
 * and graphql-ws (formatSocketErrors): an INTERNAL_SERVER_ERROR (an error we
 * did not raise with a code) is logged with its cause and, unless NODE_ENV=development,
 * answered as "Internal server error" with only its code, path and locations.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, { hideDetails, log }: ErrorFormatting): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (code !== 'INTERNAL_SERVER_ERROR') return formatted;
  log.error('unexpected error in a GraphQL operation', { err: (error as { originalError?: unknown }).originalError ?? error, path: formatted.path });
  if (hideDetails) return { message: 'Internal server error', extensions: { code }, path: formatted.path, locations: formatted.locations };
  return formatted;
}

/** graphql-ws errors, formatted as over HTTP. */
export function formatSocketErrors(errors: readonly GraphQLError[], options: ErrorFormatting): GraphQLFormattedError[] {
  return errors.map((error) => formatError(asApolloPresents(error, options.hideDetails), error, options));
}

/** A graphql-ws result, its errors formatted as over HTTP. */
export function formatSocketResult(result: ExecutionResult, options: ErrorFormatting): FormattedExecutionResult {
  if (!result.errors?.length) return result;
  return { ...result, errors: formatSocketErrors(result.errors, options) };
}

/**
 * An error as Apollo hands it to formatError over HTTP: a missing code filled
 * in as Apollo fills it, `extensions.http` (a status for HTTP) dropped, the
 * stack trace added only with NODE_ENV=development.
 */
function asApolloPresents(error: GraphQLError, hideDetails: boolean): GraphQLFormattedError {
  const { http: _http, ...extensions }: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? missingCode(error) };
  if (!hideDetails) extensions.stacktrace = error.stack?.split('\n');
  return { ...error.toJSON(), extensions };
}

/** `error` with `code` in place of its own, as Apollo codes a stage's errors (parsing, validation) over HTTP. */
export function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/** graphql-js throws this (without a code) past 50 variable coercion errors. */
export const VARIABLE_ERROR_LIMIT = /^Too many errors processing variables/;

/** The code of an error raised without one: graphql-js's variable coercion errors are the client's (as Apollo has it), anything else is ours. */
function missingCode(error: GraphQLError): string {
  if (VARIABLE_ERROR_LIMIT.test(error.message)) return 'BAD_USER_INPUT';
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return 'INTERNAL_SERVER_ERROR';
  const variable = `Variable "$${node.variable.name.value}" `;
  const coercion = ['has invalid value', 'got invalid value ', 'of required type ', 'of non-null type '].some((rest) => error.message.startsWith(variable + rest));
  return coercion ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR';
}
