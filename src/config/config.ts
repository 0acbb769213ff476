import path from 'node:path';
import { parseAllowEntry } from '../delivery/address-guard.js';
import { parseRetrySchedule } from '../delivery/retry-policy.js';
import { parseDuration } from './duration.js';

/** Everything hookgraph reads from the environment, parsed once. */
export interface Config {
  /** HTTP and WebSocket port. `PORT`, default 4000; 0 picks a free port. */
  readonly port: number;
  /** Interface to listen on. `HOST`, default all interfaces. */
  readonly host: string;
  /** External PostgreSQL; undefined means the embedded one. `DATABASE_URL`. */
  readonly databaseUrl: string | undefined;
  /** Embedded database and generated keys. `HOOKGRAPH_DATA_DIR`, default `.hookgraph/`. */
  readonly dataDir: string;
  /** Root key for `tenantCreate`; undefined means generated and stored in the data dir. `HOOKGRAPH_ROOT_KEY`. */
  readonly rootKey: string | undefined;
  /** 32-byte key encrypting signing secrets and custom header values; undefined only in embedded mode (then generated). `HOOKGRAPH_SECRET_KEY`. */
  readonly secretKey: Buffer | undefined;
  /** CIDRs and host names exempt from the outbound address guard. `HOOKGRAPH_ALLOW_TARGETS`. */
  readonly allowTargets: readonly string[];
  /** Delay before each attempt, in ms; its length is the number of attempts. `HOOKGRAPH_RETRY_SCHEDULE`. */
  readonly retrySchedule: readonly number[];
  /** Per-attempt HTTP timeout, ms. `HOOKGRAPH_DELIVERY_TIMEOUT`, default 15s. */
  readonly deliveryTimeoutMs: number;
  /** Failing with no success this long disables a subscription. `HOOKGRAPH_DISABLE_AFTER`, default 5d. */
  readonly disableAfterMs: number;
  /**
   * Consecutive failed attempts of a subscription that open its circuit
   * (its deliveries then wait while single probes test the receiver; see
   * delivery/circuit.ts); 0 never opens it. `HOOKGRAPH_CIRCUIT_FAILURES`, default 10.
   */
  readonly circuitFailures: number;
  /** Wait before an open circuit's first probe, doubling after each failed probe. `HOOKGRAPH_CIRCUIT_PROBE_BASE`, default 5s. */
  readonly circuitProbeBaseMs: number;
  /** The longest wait between probes. `HOOKGRAPH_CIRCUIT_PROBE_MAX`, default 5m (at least the base). */
  readonly circuitProbeMaxMs: number;
  /** Finished deliveries, attempts and events older than this are pruned. `HOOKGRAPH_RETENTION_DAYS`, default 30. */
  readonly retentionDays: number;
  /** Largest accepted event payload, serialized. `HOOKGRAPH_MAX_PAYLOAD_BYTES`, default 256 KiB. */
  readonly maxPayloadBytes: number;
  /** Largest serialized GraphQL answer; operations estimated above 4 × it are refused before they run. `HOOKGRAPH_MAX_RESPONSE_BYTES`, default 8 MiB (at least twice the payload limit). */
  readonly maxResponseBytes: number;
  /** Open WebSockets per API key in one api process; more are closed (1008). `HOOKGRAPH_MAX_SOCKETS_PER_KEY`, default 20. */
  readonly maxSocketsPerKey: number;
  /**
   * PostgreSQL connections one process opens at most, besides its LISTEN
   * connections (see `connectionBudget`). `HOOKGRAPH_DB_CONNECTIONS`, default 30, at least 6.
   */
  readonly dbConnections: number;
  /** Deliveries fetched per pg-boss batch. `HOOKGRAPH_WORKER_BATCH_SIZE`, default 100. */
  readonly workerBatchSize: number;
  /** No longer used by the worker (one fetch loop per queue, sized by `workerInFlight`); kept for the bench's raw baselines. `HOOKGRAPH_WORKER_CONCURRENCY`, default 4. */
  readonly workerConcurrency: number;
  /** Attempts one worker process keeps in flight at most, from fetch until their outcome commits. `HOOKGRAPH_WORKER_IN_FLIGHT`, default 500. */
  readonly workerInFlight: number;
  /**
   * Of those, the most one subscription may hold (a subscription's `maxInFlight`
   * can only lower it), so a slow or hanging receiver cannot take the worker.
   * It also bounds one subscription's rate: a slot is held from fetch to the
   * outcome's commit (some 25–35 ms here), so 64 slots carry about 2,000
   * deliveries/s (at 32, a single subscription fell behind at 1,000/s).
   * `HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT`, default 64.
   */
  readonly subscriptionInFlight: number;
  /** Live updates buffered per GraphQL subscription before its client is dropped as too slow (close 1013). `HOOKGRAPH_LIVE_BUFFER`, default 10000. */
  readonly liveBufferSize: number;
  /** Error answers carry internal messages and stack traces only with `NODE_ENV=development`; hidden otherwise (unset included). */
  readonly hideErrorDetails: boolean;
  /** `debug`, `info`, `warn`, `error`. `HOOKGRAPH_LOG_LEVEL`, default info. */
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * OpenTelemetry traces exported over OTLP: on when `OTEL_EXPORTER_OTLP_ENDPOINT`
   * or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, unless `OTEL_SDK_DISABLED=true`
   * or `OTEL_TRACES_EXPORTER=none`. The SDK reads the other OTEL_* variables itself.
   */
  readonly tracing: boolean;
}

/** A configuration problem, reported as one line naming the variable. */
export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_RETRY_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,10h';

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not a whole number`);
  const parsed = Number(raw);
  if (parsed < min || parsed > max) throw new ConfigError(name, `${parsed} is outside ${min}..${max}`);
  return parsed;
}

function duration(env: Env, name: string, fallback: string, min = 0): number {
  const raw = value(env, name) ?? fallback;
  const parsed = parseDuration(raw);
  if (parsed === undefined) throw new ConfigError(name, `"${raw}" is not a duration (e.g. 500ms, 15s, 5m, 2h, 5d)`);
  if (parsed < min) throw new ConfigError(name, `must be at least ${min}ms`);
  return parsed;
}

function retrySchedule(env: Env): number[] {
  const name = 'HOOKGRAPH_RETRY_SCHEDULE';
  const parsed = parseRetrySchedule((value(env, name) ?? DEFAULT_RETRY_SCHEDULE).split(','));
  if (!parsed.ok) throw new ConfigError(name, parsed.message);
  return parsed.schedule;
}

function databaseUrl(env: Env): string | undefined {
  const raw = value(env, 'DATABASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user:password@host:5432/db)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `scheme "${url.protocol.replace(':', '')}" is not postgres or postgresql`);
  }
  if (!url.hostname && !url.searchParams.get('host')) throw new ConfigError('DATABASE_URL', 'has no host');
  return raw;
}

function secretKey(env: Env, external: boolean): Buffer | undefined {
  const raw = value(env, 'HOOKGRAPH_SECRET_KEY');
  if (raw === undefined) {
    if (external) throw new ConfigError('HOOKGRAPH_SECRET_KEY', 'is required when DATABASE_URL is set (64 hex characters, e.g. `openssl rand -hex 32`)');
    return undefined;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(raw)) throw new ConfigError('HOOKGRAPH_SECRET_KEY', 'must be exactly 64 hex characters (32 bytes)');
  return Buffer.from(raw, 'hex');
}

function rootKey(env: Env): string | undefined {
  const raw = value(env, 'HOOKGRAPH_ROOT_KEY');
  if (raw !== undefined && raw.length < 24) throw new ConfigError('HOOKGRAPH_ROOT_KEY', 'must be at least 24 characters');
  return raw;
}

function allowTargets(env: Env): string[] {
  const entries = (value(env, 'HOOKGRAPH_ALLOW_TARGETS') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of entries) {
    try {
      parseAllowEntry(entry);
    } catch (error) {
      throw new ConfigError('HOOKGRAPH_ALLOW_TARGETS', (error as Error).message);
    }
  }
  return entries;
}

/** The probe interval's ceiling may not be below its start. */
function circuitProbeMaxMs(env: Env, baseMs: number): number {
  const name = 'HOOKGRAPH_CIRCUIT_PROBE_MAX';
  const parsed = duration(env, name, '5m', 1);
  if (parsed < baseMs) throw new ConfigError(name, `must be at least HOOKGRAPH_CIRCUIT_PROBE_BASE (${baseMs}ms)`);
  return parsed;
}

/** Must leave room for one payload; by default also grows with a raised payload limit. */
function maxResponseBytes(env: Env, maxPayloadBytes: number): number {
  const name = 'HOOKGRAPH_MAX_RESPONSE_BYTES';
  const parsed = integer(env, name, Math.max(8 * 1024 * 1024, 2 * maxPayloadBytes), 4096, 1024 * 1024 * 1024);
  const least = maxPayloadBytes + 4096;
  if (parsed < least) throw new ConfigError(name, `must be at least HOOKGRAPH_MAX_PAYLOAD_BYTES + 4 KiB (${least}), or an event could not be read`);
  return parsed;
}

function logLevel(env: Env): Config['logLevel'] {
  const raw = value(env, 'HOOKGRAPH_LOG_LEVEL') ?? 'info';
  if (raw !== 'debug' && raw !== 'info' && raw !== 'warn' && raw !== 'error') {
    throw new ConfigError('HOOKGRAPH_LOG_LEVEL', `"${raw}" is not one of debug, info, warn, error`);
  }
  return raw;
}

function tracing(env: Env): boolean {
  let on = false;
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const raw = value(env, name);
    if (raw === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      // reported below
    }
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new ConfigError(name, 'is not an http:// or https:// URL (e.g. http://localhost:4318)');
    on = true;
  }
  const exporters = (value(env, 'OTEL_TRACES_EXPORTER') ?? '').split(',').map((s) => s.trim());
  return on && value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() !== 'true' && !exporters.includes('none');
}

/** Reads the environment into a frozen Config; throws ConfigError on the first bad value. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const external = databaseUrl(env);
  const maxPayloadBytes = integer(env, 'HOOKGRAPH_MAX_PAYLOAD_BYTES', 256 * 1024, 1, 64 * 1024 * 1024);
  const circuitProbeBaseMs = duration(env, 'HOOKGRAPH_CIRCUIT_PROBE_BASE', '5s', 1);
  const config: Config = {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: value(env, 'HOST') ?? '::',
    databaseUrl: external,
    dataDir: path.resolve(cwd, value(env, 'HOOKGRAPH_DATA_DIR') ?? '.hookgraph'),
    rootKey: rootKey(env),
    secretKey: secretKey(env, external !== undefined),
    allowTargets: allowTargets(env),
    retrySchedule: retrySchedule(env),
    deliveryTimeoutMs: duration(env, 'HOOKGRAPH_DELIVERY_TIMEOUT', '15s', 1),
    disableAfterMs: duration(env, 'HOOKGRAPH_DISABLE_AFTER', '5d', 1),
    circuitFailures: integer(env, 'HOOKGRAPH_CIRCUIT_FAILURES', 10, 0, 1_000_000),
    circuitProbeBaseMs,
    circuitProbeMaxMs: circuitProbeMaxMs(env, circuitProbeBaseMs),
    retentionDays: integer(env, 'HOOKGRAPH_RETENTION_DAYS', 30, 1, 3650),
    maxPayloadBytes,
    maxResponseBytes: maxResponseBytes(env, maxPayloadBytes),
    maxSocketsPerKey: integer(env, 'HOOKGRAPH_MAX_SOCKETS_PER_KEY', 20, 1, 10_000),
    dbConnections: integer(env, 'HOOKGRAPH_DB_CONNECTIONS', 30, 6, 1000),
    workerBatchSize: integer(env, 'HOOKGRAPH_WORKER_BATCH_SIZE', 100, 1, 1000),
    workerConcurrency: integer(env, 'HOOKGRAPH_WORKER_CONCURRENCY', 4, 1, 64),
    workerInFlight: integer(env, 'HOOKGRAPH_WORKER_IN_FLIGHT', 500, 1, 100_000),
    subscriptionInFlight: integer(env, 'HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT', 64, 1, 100_000),
    liveBufferSize: integer(env, 'HOOKGRAPH_LIVE_BUFFER', 10_000, 1, 1_000_000),
    hideErrorDetails: value(env, 'NODE_ENV') !== 'development',
    logLevel: logLevel(env),
    tracing: tracing(env),
  };
  return Object.freeze(config);
}
