import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { VARIABLE_ERROR_LIMIT, withCode } from './errors.js';

/**
 * Requests a client got wrong answer with a client code, never
 * INTERNAL_SERVER_ERROR, and large documents are refused before parsing.
 */

/** Query text longer than this is refused before parsing (a parsed document holds many times its text in memory). */
export const MAX_QUERY_CHARS = 100 * 1024;

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** Refuses over-long query text before Apollo parses (and caches) it. */
export const queryTextLimit: RequestHandler = (req, res, next) => {
  const query: unknown = req.method === 'GET' ? req.query?.query : (req.body as { query?: unknown } | undefined)?.query;
  if (typeof query === 'string' && query.length > MAX_QUERY_CHARS) {
    res.status(413).json(errorBody(`The query document is longer than ${MAX_QUERY_CHARS / 1024} KiB.`, 'BAD_REQUEST'));
    return;
  }
  next();
};

/**
 * Parses a graphql-ws subscribe payload's query, with the same length limit as
 * over HTTP. graphql-ws needs GraphQLErrors back: anything else thrown (a
 * document nested past the parser's stack) would close the socket with 4500.
 */
export function parseSocketQuery(query: string): DocumentNode | GraphQLError[] {
  if (query.length > MAX_QUERY_CHARS) return [new GraphQLError(`The query document is longer than ${MAX_QUERY_CHARS / 1024} KiB.`, { extensions: { code: 'BAD_REQUEST' } })];
  try {
    return parse(query);
  } catch (error) {
    // Apollo's code for a syntax error over HTTP.
    if (error instanceof GraphQLError) return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
    return [new GraphQLError('Syntax Error: the document is nested too deeply to parse.', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
  }
}

/** Body parser failures (malformed JSON, too large, bad charset) as GraphQL errors, without the stack express would print. */
export const bodyErrors: ErrorRequestHandler = (error: { status?: number; statusCode?: number; type?: string }, _req, res, next) => {
  const status = error.status ?? error.statusCode;
  if (res.headersSent || !status || status < 400 || status >= 500) return next(error);
  const message = error.type === 'entity.too.large' ? 'The request body is too large.' : error.type === 'entity.parse.failed' ? 'The request body is not valid JSON.' : 'The request body cannot be read.';
  res.status(status).json(errorBody(message, 'BAD_REQUEST'));
};

export const clientErrorCodes: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        // Subscriptions are served over graphql-ws; over HTTP type-graphql would resolve them to null.
        if (operation?.operation === 'subscription') {
          throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) at /graphql, not over HTTP.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      },
      async didEncounterErrors({ errors }) {
        for (const error of errors) {
          const extensions = error.extensions as Record<string, unknown>;
          if (extensions.code !== undefined) continue;
          if (VARIABLE_ERROR_LIMIT.test(error.message)) {
            extensions.code = 'BAD_USER_INPUT';
            extensions.http = { status: 400 };
            continue;
          }
          // Apollo's own refusals (persisted-query version or hash mismatch) carry a 4xx status but no code.
          const status = (extensions.http as { status?: number } | undefined)?.status;
          if (status !== undefined && status >= 400 && status < 500) extensions.code = 'BAD_REQUEST';
        }
      },
    };
  },
};
