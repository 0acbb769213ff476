import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import { getOperationAST, GraphQLError, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { authenticate, type Principal } from './auth.js';
import { subscribeWithFreshContext } from '../live/subscribe.js';
import { createContext, type Context, type Services } from './context.js';
import { CloseCodes } from '../live/connections.js';
import { introspectionNeedsKey } from './introspection.js';
import { estimateAnswerBytes, MAX_OPERATIONS_PER_SOCKET, queryLimits } from './query-limits.js';
import { documentStrings, findUnstorableText } from './input-guard.js';
import { badUserInput, formatError, withCode, formatSocketErrors, formatSocketResult, type ErrorFormatting } from './errors.js';
import { checkResponseSize, responseSizeCap } from './response-size.js';
import { graphqlTracingPlugins, socketOperationSpans } from '../telemetry/graphql.js';
import { mountProbes } from './probes.js';
import { requestLogPlugin } from './request-log.js';
import { DocumentCache } from './document-cache.js';
import { bodyErrors, clientErrorCodes, parseSocketQuery, queryTextLimit } from './request-guards.js';
import { refuseServerFrames } from './ws-frames.js';

export interface HttpServerOptions {
  services: Services;
  schema: GraphQLSchema;
  /** True when the database answers and every migration is applied. */
  ready: () => Promise<boolean>;
  /** Extra routes (metrics, admin console), mounted before /graphql. */
  routes?: (app: Express) => void;
  /** Called for every accepted WebSocket, e.g. to end it when its key is revoked. */
  onSocket?: (socket: import('ws').WebSocket, principal: Principal) => void;
}

export interface RunningHttpServer {
  server: http.Server;
  port: number;
  url: string;
  /** Stops accepting, closes WebSockets, drains requests in flight. */
  close(): Promise<void>;
}

const MAX_BODY = '6mb';
/** graphql-ws answers estimated below 1/SIZE_CHECK_MARGIN of the cap are not measured (estimates are not exact bounds). */
const SIZE_CHECK_MARGIN = 16;

export async function startHttpServer(options: HttpServerOptions, port: number, host: string): Promise<RunningHttpServer> {
  const { services, schema } = options;
  const { log, config } = services;
  const limitOptions = { maxPayloadBytes: config.maxPayloadBytes, maxResponseBytes: config.maxResponseBytes };
  const limitRules = [queryLimits(limitOptions)];
  /** graphql-ws operations whose answers are measured against the cap, and whether each is a mutation. */
  const sizeChecked = new WeakMap<object, boolean>();
  const socketSpans = socketOperationSpans();
  const app = express();
  // Express's final handler sends a stack trace as HTML in its 'development' env, its default when NODE_ENV is unset.
  app.set('env', config.hideErrorDetails ? 'production' : 'development');
  app.disable('x-powered-by');
  const server = http.createServer(app);

  /** One formatter for HTTP and graphql-ws: the same codes, the same masking. */
  const formatting: ErrorFormatting = { hideDetails: config.hideErrorDetails, log };

  // noServer: upgrades are routed here by hand, so the WebSocket server does not re-emit the HTTP
  // server's errors (EADDRINUSE is reported once, by listen() below).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/graphql') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', refuseServerFrames(ws), request));
  });
  const wsServer = useServer<Record<string, unknown>, { principal: Principal }>(
    {
      schema,
      // graphql-ws puts an internal error's message in the close reason unless told this is production.
      isProd: config.hideErrorDetails,
      // Each streamed event runs with a fresh context (identity map, DataLoaders): it must read current rows.
      subscribe: subscribeWithFreshContext<Context>({
        fresh: (context) => ({ ...createContext(context.services, context.principal), socket: context.socket }),
        audience: ({ principal }) => (principal.kind === 'key' ? `${principal.tenantId}:${[...principal.scopes].sort().join(',')}` : principal.kind),
      }),
      onSubscribe: (ctx, _id, payload) => {
        // graphql-ws has already added this operation to ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_SOCKET) {
          return [
            new GraphQLError(`At most ${MAX_OPERATIONS_PER_SOCKET} operations may be open at once on one connection; complete one first.`, {
              extensions: { code: 'TOO_MANY_OPERATIONS' },
            }),
          ];
        }
        // Same validation as over HTTP, query limits included.
        const document = parseSocketQuery(payload.query);
        if (Array.isArray(document)) return document;
        const errors = validate(schema, document, [...specifiedRules, ...limitRules]);
        // Apollo's code for every validation error over HTTP.
        if (errors.length) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
        // A subscription's arguments are used when it starts (replay, patterns), before any resolver runs.
        const unstorable = findUnstorableText(payload.variables ?? {}) ?? findUnstorableText(documentStrings(document));
        if (unstorable) return [badUserInput(unstorable.path[0]!, unstorable.message)];
        const args = {
          schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: { ...createContext(services, ctx.extra.principal ?? { kind: 'anonymous' }), socket: ctx.extra.socket },
        };
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          const message = payload.operationName ? `Unknown operation named "${payload.operationName}".` : 'Must provide operation name if query contains multiple operations.';
          return [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
        }
        const principal = ctx.extra.principal ?? { kind: 'anonymous' as const };
        // graphql-ws bypasses Apollo's plugins: its operations get their log line and span here.
        log.debug('graphql socket operation', {
          operationName: payload.operationName ?? null,
          operationType: operation.operation,
          tenantId: principal.kind === 'key' ? principal.tenantId : undefined,
          keyId: principal.kind === 'key' ? principal.keyId : undefined,
        });
        socketSpans?.start(ctx, _id, operation, principal);
        const estimate = estimateAnswerBytes(schema, document, payload.operationName, limitOptions);
        // Far below the cap, the answer need not be serialized once more to be measured (every live update).
        if (estimate * SIZE_CHECK_MARGIN > config.maxResponseBytes) sizeChecked.set(args, operation.operation === 'mutation');
        return args;
      },
      // Queries and subscription events over the socket get the same error format and size cap as HTTP.
      onNext: (_ctx, _id, _payload, args, result) => {
        const masked = formatSocketResult(result, formatting);
        const mutation = sizeChecked.get(args);
        if (mutation === undefined) return masked;
        const tooLarge = checkResponseSize(masked, config.maxResponseBytes, mutation);
        return tooLarge ? { errors: [tooLarge] } : masked;
      },
      onError: (ctx, id, _payload, errors) => {
        const formatted = formatSocketErrors(errors, formatting);
        socketSpans?.end(ctx, id, formatted);
        return formatted;
      },
      onComplete: (ctx, id) => socketSpans?.end(ctx, id),
      onConnect: async (ctx) => {
        const principal = await authenticate(services.db, services.rootKey, ctx.connectionParams?.authorization);
        if (principal.kind === 'anonymous' || principal.kind === 'invalid') {
          ctx.extra.socket.close(4401, 'Unauthorized');
          return false;
        }
        if (principal.kind !== 'key') return false; // 4403: the root key has no tenant to watch
        // Checked and registered (onSocket) with no await in between, so concurrent connects cannot overshoot.
        if (services.live.connections.openFor(principal.keyId) >= config.maxSocketsPerKey) {
          const { code, reason } = CloseCodes.tooManySockets;
          ctx.extra.socket.close(code, `${reason} (at most ${config.maxSocketsPerKey})`);
          return false;
        }
        ctx.extra.principal = principal;
        options.onSocket?.(ctx.extra.socket, principal);
        return true;
      },
    },
    wss,
  );

  const apollo = new ApolloServer({
    schema,
    validationRules: limitRules,
    documentStore: new DocumentCache(),
    includeStacktraceInErrorResponses: !config.hideErrorDetails,
    // Callers with a key may introspect; introspectionNeedsKey refuses anonymous ones.
    introspection: true,
    // main.ts owns the signals and stops everything in order.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      introspectionNeedsKey(),
      responseSizeCap(config.maxResponseBytes),
      ...graphqlTracingPlugins(),
      requestLogPlugin(log),
      clientErrorCodes,
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsServer.dispose();
            },
          };
        },
      },
    ],
    formatError: (formatted, error) => formatError(formatted, error, formatting),
  });
  await apollo.start();

  mountProbes(app, options.ready);
  options.routes?.(app);
  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY }),
    queryTextLimit,
    expressMiddleware(apollo, {
      context: async ({ req }) => createContext(services, await authenticate(services.db, services.rootKey, req.headers.authorization)),
    }),
    bodyErrors,
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    server,
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    async close() {
      // Apollo's drain plugin stops the listener, ends keep-alive sockets and disposes graphql-ws.
      await apollo.stop();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
