import { context, diag, DiagLogLevel, propagation, SpanStatusCode, trace, TraceFlags, type Attributes, type Span, type SpanContext } from '@opentelemetry/api';
import type { Config } from '../config/config.js';
import { VERSION } from '../delivery/version.js';
import type { Logger } from '../log.js';

/*
 * OpenTelemetry tracing. Everything outside this folder uses only
 * `@opentelemetry/api`, and only behind `tracingEnabled()`: with no OTLP
 * endpoint configured the SDK is never imported and no span is created.
 *
 * `Config.tracing` decides whether the SDK starts; the SDK itself reads the
 * standard OTEL_* variables (endpoint, headers, protocol, sampler, BSP,
 * resource, propagators) from the process environment, as it documents.
 * `main` builds Config from that same environment, so the two agree.
 */

/** The SDK of this process: the API's tracer provider is global, so apps started in one process share it. */
let running: { shutdown(): Promise<void>; users: number } | undefined;

export function tracingEnabled(): boolean {
  return running !== undefined;
}

export function tracer() {
  return trace.getTracer('hookgraph', VERSION);
}

/**
 * Starts the OpenTelemetry SDK when `config.tracing` is set (loaded with a
 * dynamic import, so a process without tracing never loads it). Returns the
 * stop hook, which ends the SDK after flushing the spans still queued.
 */
export async function startTracing(config: Config, log: Logger): Promise<() => Promise<void>> {
  if (!config.tracing) return async () => undefined;
  if (!running) {
    const [{ NodeSDK }, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/resources')]);
    // Export failures (collector down) reach the log instead of vanishing; OTEL_LOG_LEVEL, if set, takes over.
    if (!process.env.OTEL_LOG_LEVEL) {
      const warn = (message: string) => log.warn('OpenTelemetry', { detail: message.slice(0, 500) });
      diag.setLogger({ error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
    }
    const sdk = new NodeSDK({
      // The base resource: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by the SDK's detectors, override it.
      resource: resourceFromAttributes({ 'service.name': 'hookgraph', 'service.version': VERSION }),
      // Traces only: metrics are served by /metrics, and logs go through the logger.
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
    running = { shutdown: () => sdk.shutdown(), users: 0 };
    log.info('tracing: exporting spans over OTLP', { endpoint: endpointForLog() });
  }
  const handle = running;
  handle.users++;
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    if (--handle.users > 0) return;
    running = undefined;
    await handle.shutdown();
    // Unregistered, so a later start in this process (tests) can register again.
    trace.disable();
    propagation.disable();
    context.disable();
    diag.disable();
  };
}

/** Where spans go, without credentials a URL may carry. */
function endpointForLog(): string | undefined {
  const raw = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  try {
    return raw ? new URL(raw).origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` inside an active span (so spans started within become its
 * children), ending it when `fn` settles; without tracing, just runs `fn`.
 * A throw marks the span failed with the error's name only: messages can
 * carry input.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!running) return fn();
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', (error as Error)?.name ?? 'Error');
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The W3C `traceparent` of the active span, or null without tracing (or outside any span). */
export function activeTraceparent(): string | null {
  if (!running) return null;
  const span = trace.getActiveSpan();
  return span ? traceparentOf(span) : null;
}

/** The W3C `traceparent` header value naming `span` as the parent. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a stored `traceparent` (version 00); undefined when absent or malformed. */
export function spanContextOf(traceparent: string | null | undefined): SpanContext | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match) return undefined;
  const spanContext: SpanContext = { traceId: match[1], spanId: match[2], traceFlags: Number.parseInt(match[3], 16) & TraceFlags.SAMPLED, isRemote: true };
  return trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}
