import type { ApolloServerPlugin } from '@apollo/server';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { OperationDefinitionNode } from 'graphql';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Principal } from '../api/auth.js';
import type { Context } from '../api/context.js';
import { tracer, tracingEnabled } from './tracing.js';

/** Root fields named in an anonymous operation's span name, at most. */
const NAMED_ROOT_FIELDS = 3;

/**
 * One SERVER span per request to /graphql, continuing the caller's trace
 * (`traceparent`, or whatever OTEL_PROPAGATORS selects). Mounted before the
 * body parser: binding the request stream keeps the span active through
 * parsing, so Apollo, the resolvers and the publish transaction run inside
 * it. Nothing is mounted without tracing.
 */
export function traceGraphQLRequests(app: Express): void {
  if (!tracingEnabled()) return;
  app.use('/graphql', (req: Request, res: Response, next: NextFunction) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan('graphql', { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    const active = trace.setSpan(parent, span);
    context.bind(active, req);
    context.with(active, next);
  });
}

/**
 * Names the request's span after its operation (`mutation eventPublish`) and
 * adds the operation type, name and tenant; errors mark it failed with their
 * codes only (messages can echo input). No plugin without tracing.
 */
export function graphqlTracingPlugins(): ApolloServerPlugin<Context>[] {
  if (!tracingEnabled()) return [];
  return [
    {
      async requestDidStart({ contextValue }) {
        const span = trace.getActiveSpan();
        if (!span) return;
        if (contextValue.principal.kind === 'key') span.setAttribute('hookgraph.tenant_id', contextValue.principal.tenantId);
        return {
          async didResolveOperation({ operation, operationName }) {
            if (!operation) return;
            const type = operation.operation;
            const fields = operation.selectionSet.selections.flatMap((s) => (s.kind === 'Field' ? [s.name.value] : []));
            span.updateName(`${type} ${operationName ?? fields.slice(0, NAMED_ROOT_FIELDS).join(',')}`.trim());
            span.setAttribute('graphql.operation.type', type);
            if (operationName) span.setAttribute('graphql.operation.name', operationName);
          },
          async didEncounterErrors({ errors }) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            span.setAttribute('hookgraph.graphql.error_codes', [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))]);
          },
        };
      },
    },
  ];
}

/**
 * Spans for operations over graphql-ws, which bypass Apollo and its plugins:
 * one SERVER span per operation, from its subscribe message to its end (a
 * query's answer, a subscription's completion or error). Undefined without
 * tracing.
 */
export function socketOperationSpans() {
  if (!tracingEnabled()) return undefined;
  const open = new WeakMap<object, Map<string, Span>>();
  return {
    start(socket: object, id: string, operation: OperationDefinitionNode | null | undefined, principal: Principal): void {
      const type = operation?.operation ?? 'unknown';
      const fields = operation?.selectionSet.selections.flatMap((s) => (s.kind === 'Field' ? [s.name.value] : [])) ?? [];
      const name = operation?.name?.value;
      const span = tracer().startSpan(`${type} ${name ?? fields.slice(0, NAMED_ROOT_FIELDS).join(',')}`.trim(), {
        kind: SpanKind.SERVER,
        attributes: {
          'graphql.operation.type': type,
          ...(name ? { 'graphql.operation.name': name } : {}),
          'network.protocol.name': 'websocket',
          ...(principal.kind === 'key' ? { 'hookgraph.tenant_id': principal.tenantId } : {}),
        },
      });
      let spans = open.get(socket);
      if (!spans) open.set(socket, (spans = new Map()));
      spans.get(id)?.end();
      spans.set(id, span);
    },
    end(socket: object, id: string, errors?: readonly { extensions?: { code?: unknown } }[]): void {
      const span = open.get(socket)?.get(id);
      if (!span) return;
      open.get(socket)!.delete(id);
      if (errors?.length) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('hookgraph.graphql.error_codes', [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))]);
      }
      span.end();
    },
  };
}
