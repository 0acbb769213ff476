import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { DueDelivery } from '../store/deliveries.js';
import type { SendResult } from '../delivery/sender.js';
import { spanContextOf, traceparentOf, tracer, tracingEnabled } from './tracing.js';

/**
 * One CLIENT span per delivery attempt, a child of the publish that created
 * the event (its `traceparent` is stored on the event row) and linked to it,
 * so the webhook stays in the publisher's trace however late the retry.
 * `send` gets the `traceparent` to put on the POST; without tracing it gets
 * undefined and no span is made. Attributes never include the URL's path or
 * query (they can carry tokens) nor any header.
 */
export async function traceAttempt(row: DueDelivery, attemptNumber: number, send: (traceparent: string | undefined) => Promise<SendResult>): Promise<SendResult> {
  if (!tracingEnabled()) return send(undefined);
  const publish = spanContextOf(row.traceparent);
  const attributes: Attributes = {
    'http.request.method': 'POST',
    'hookgraph.tenant_id': row.tenantId,
    'hookgraph.event_id': row.eventId,
    'hookgraph.delivery_id': row.id,
    'hookgraph.webhook_subscription_id': row.webhookSubscriptionId,
    'hookgraph.attempt': attemptNumber,
  };
  try {
    const url = new URL(row.url);
    attributes['server.address'] = url.hostname;
    attributes['server.port'] = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  } catch {
    // an invalid URL fails the attempt in the sender; the span just has no address
  }
  const parent = publish ? trace.setSpanContext(ROOT_CONTEXT, publish) : ROOT_CONTEXT;
  const span = tracer().startSpan('webhook attempt', { kind: SpanKind.CLIENT, attributes, links: publish ? [{ context: publish }] : [] }, parent);
  try {
    const result = await send(traceparentOf(span));
    if (result.status !== undefined) span.setAttribute('http.response.status_code', result.status);
    if (result.errorKind) {
      span.setAttribute('error.type', result.errorKind);
      // The same text the attempt stores for the tenant to read.
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error });
    }
    return result;
  } catch (error) {
    span.setAttribute('error.type', 'INTERNAL');
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
