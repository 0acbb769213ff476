import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { after, test } from 'node:test';
import { startOtlpCollector, type CollectedSpan } from '../helpers/otlp-collector.js';
import { startReceiver } from '../helpers/receiver.js';

// Every module loaded from here on is recorded, so the test can tell whether the OpenTelemetry SDK was loaded.
const loaded: string[] = [];
registerHooks({
  load(url, context, next) {
    loaded.push(url);
    return next(url, context);
  },
});
// Imported after the hook, so hookgraph's own imports are seen too.
const { startTestApp } = await import('../helpers/app.js');
const { wsClient } = await import('../helpers/graphql.js');
const { eventType, settled, subscription, tenant, PUBLISH } = await import('../helpers/webhooks.js');
const sdkModules = () => loaded.filter((url) => /\/node_modules\/@opentelemetry\/(?!api\/)/.test(url));

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

/** eventPublish over HTTP with the caller's `traceparent`. */
async function publishTraced(url: string, key: string, eventTypeName: string, payload: unknown): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` },
    body: JSON.stringify({ query: PUBLISH, variables: { input: { eventType: eventTypeName, payload } } }),
  });
  const body = (await response.json()) as { data?: { eventPublish: { event: { id: string } | null } } };
  const event = body.data?.eventPublish.event;
  if (!event) throw new Error(`eventPublish failed: ${JSON.stringify(body)}`);
  return event.id;
}

test('without OTEL_EXPORTER_OTLP_ENDPOINT no OpenTelemetry SDK module is loaded and webhooks carry no traceparent', async () => {
  const app = await startTestApp({ label: 'tracing-off' });
  after(() => app.stop());
  const t = await tenant(app);
  await eventType(t, 'order.created');
  const receiver = await startReceiver();
  await subscription(t, { url: receiver.url, eventTypes: ['order.created'] });
  const eventId = await publishTraced(app.url, t.key, 'order.created', { orderId: 1 });
  const [request] = await receiver.waitFor(1);
  assert.equal(request.headers['webhook-id'], eventId);
  assert.equal(request.headers.traceparent, undefined);
  const [delivery] = await settled(t, eventId);
  assert.equal(delivery.status, 'SUCCEEDED');
  assert.ok(loaded.some((url) => url.includes('/src/app.js')), 'the load hook saw hookgraph itself');
  assert.deepEqual(sdkModules(), []);
  const { rows } = await app.app.pool.query('select traceparent from event where id = $1', [eventId]);
  assert.equal(rows[0].traceparent, null);
  await app.stop();
});

test('with OTEL_EXPORTER_OTLP_ENDPOINT: operation, publish and attempt spans in the caller’s trace, the webhook carries the attempt’s traceparent', async () => {
  const collector = await startOtlpCollector();
  // Read by the SDK from the process environment (this test file is a process of its own).
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_SERVICE_NAME: 'hookgraph-under-test',
  });
  const app = await startTestApp({ label: 'tracing-on', env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } });
  after(() => app.stop());
  assert.ok(sdkModules().some((url) => url.includes('/@opentelemetry/sdk-node/')), 'the SDK is loaded when tracing is on');
  const t = await tenant(app);
  await eventType(t, 'order.created');
  const receiver = await startReceiver();
  receiver.replies(500); // then 200: the retry must still continue the publish's trace
  // A custom traceparent header is replaced by the attempt's own.
  await subscription(t, { url: receiver.url, eventTypes: ['order.created'], headers: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` } });

  const eventId = await publishTraced(app.url, t.key, 'order.created', { orderId: 2 });
  const [request, retry] = await receiver.waitFor(2);
  const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(request.headers.traceparent));
  assert.ok(sent, `the webhook carries a sampled traceparent, got ${request.headers.traceparent}`);
  assert.equal(sent[1], TRACE_ID, 'the webhook continues the trace of the eventPublish call');

  const byName = (name: string) => (span: CollectedSpan) => span.name === name && span.traceId === TRACE_ID;
  const operation = await collector.waitForSpan(byName('mutation eventPublish'));
  assert.equal(operation.parentSpanId, CALLER_SPAN_ID, 'the operation span continues the incoming traceparent');
  assert.equal(operation.kind, 2, 'SERVER');
  assert.equal(operation.attributes['graphql.operation.type'], 'mutation');
  assert.equal(operation.attributes['hookgraph.tenant_id'], t.tenantId);
  assert.equal(operation.resource['service.name'], 'hookgraph-under-test', 'OTEL_SERVICE_NAME is honoured');

  const publish = await collector.waitForSpan(byName('publish'));
  assert.equal(publish.parentSpanId, operation.spanId);
  assert.equal(publish.attributes['hookgraph.event_count'], 1);
  const { rows } = await app.app.pool.query('select traceparent from event where id = $1', [eventId]);
  assert.equal(rows[0].traceparent, `00-${TRACE_ID}-${publish.spanId}-01`, 'the event row keeps the publish span’s context');

  const attempt = await collector.waitForSpan(byName('webhook attempt'));
  assert.equal(attempt.spanId, sent[2], 'the webhook’s traceparent names the attempt span');
  assert.equal(attempt.parentSpanId, publish.spanId);
  assert.deepEqual(attempt.links, [{ traceId: TRACE_ID, spanId: publish.spanId }]);
  assert.equal(attempt.kind, 3, 'CLIENT');
  assert.equal(attempt.attributes['http.response.status_code'], 500);
  assert.equal(attempt.attributes['error.type'], 'HTTP_STATUS');
  assert.equal(attempt.status.code, 2, 'ERROR');
  assert.equal(attempt.attributes['hookgraph.event_id'], eventId);
  assert.equal(attempt.attributes['hookgraph.attempt'], 1);
  assert.equal(attempt.attributes['server.address'], '127.0.0.1');

  const retried = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(retry.headers.traceparent));
  assert.ok(retried && retried[1] === TRACE_ID && retried[2] !== sent[2], 'the retry has a traceparent of its own in the same trace');
  const second = await collector.waitForSpan((span) => span.spanId === retried[2]);
  assert.equal(second.parentSpanId, publish.spanId, 'the retry is a child of the publish too');
  assert.equal(second.attributes['hookgraph.attempt'], 2);
  assert.equal(second.attributes['http.response.status_code'], 200);

  // Operations over graphql-ws bypass Apollo: they get a span of their own.
  const ws = wsClient(app.url, t.key);
  const answer = await ws.subscribe('query OverSocket { viewer { tenant { id } } }').next();
  assert.equal(answer.viewer.tenant.id, t.tenantId);
  await ws.dispose();
  const socketSpan = await collector.waitForSpan((span) => span.name === 'query OverSocket');
  assert.equal(socketSpan.kind, 2, 'SERVER');
  assert.equal(socketSpan.attributes['network.protocol.name'], 'websocket');
  assert.equal(socketSpan.attributes['hookgraph.tenant_id'], t.tenantId);

  // No span carries a key, a signing secret or a header value.
  const exported = JSON.stringify(collector.spans);
  assert.ok(!exported.includes(t.key), 'no API key in any span');
  assert.ok(!exported.includes('whsec_'), 'no signing secret in any span');
  assert.ok(!exported.includes(String(request.headers['webhook-signature'])), 'no header value in any span');

  // The attempt records what was sent, the traceparent included and not redacted.
  const [delivery] = await settled(t, eventId);
  assert.equal(delivery.status, 'SUCCEEDED');
  const attempts = await app.gql('query($id: ID!) { delivery(id: $id) { attempts { requestHeaders } } }', { id: delivery.id }, t.key);
  assert.deepEqual(
    attempts.data.delivery.attempts.map((a: { requestHeaders: Record<string, string> }) => a.requestHeaders.traceparent),
    [request.headers.traceparent, retry.headers.traceparent],
  );
  await app.stop();
});
