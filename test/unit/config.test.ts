import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { parseDuration } from '../../src/config/duration.js';
import { connectionBudget } from '../../src/db/orm.js';

const KEY = 'ab'.repeat(32);

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error;
  }
  assert.fail('expected loadConfig to throw');
}

test('defaults match the documented table', () => {
  const config = loadConfig({}, '/srv/app');
  assert.equal(config.port, 4000);
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.dataDir, '/srv/app/.hookgraph');
  assert.equal(config.rootKey, undefined);
  assert.equal(config.secretKey, undefined);
  assert.deepEqual(config.allowTargets, []);
  assert.deepEqual(config.retrySchedule, [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  assert.equal(config.deliveryTimeoutMs, 15_000);
  assert.equal(config.disableAfterMs, 5 * 86_400_000);
  assert.equal(config.retentionDays, 30);
  assert.equal(config.maxPayloadBytes, 262_144);
  assert.equal(config.circuitFailures, 10);
  assert.equal(config.circuitProbeBaseMs, 5_000);
  assert.equal(config.circuitProbeMaxMs, 300_000);
  assert.equal(config.dbConnections, 30);
  assert.ok(Object.isFrozen(config));
});

test("one connection budget per process: two thirds for hookgraph's pool, a third (at least 2) for pg-boss's", () => {
  assert.deepEqual(connectionBudget(loadConfig({}, '/srv/app').dbConnections), { orm: 20, queue: 10 });
  assert.deepEqual(connectionBudget(loadConfig({ HOOKGRAPH_DB_CONNECTIONS: '6' }, '/srv/app').dbConnections), { orm: 4, queue: 2 });
  assert.deepEqual(connectionBudget(100), { orm: 67, queue: 33 });
});

test('circuit breaker settings: a whole number of failures (0 turns it off), probe waits as durations, the ceiling not below the base', () => {
  const config = loadConfig({ HOOKGRAPH_CIRCUIT_FAILURES: '0', HOOKGRAPH_CIRCUIT_PROBE_BASE: '250ms', HOOKGRAPH_CIRCUIT_PROBE_MAX: '2s' });
  assert.equal(config.circuitFailures, 0);
  assert.equal(config.circuitProbeBaseMs, 250);
  assert.equal(config.circuitProbeMaxMs, 2_000);
  assert.equal(errorOf({ HOOKGRAPH_CIRCUIT_FAILURES: 'ten' }).message, 'HOOKGRAPH_CIRCUIT_FAILURES: "ten" is not a whole number');
  assert.equal(errorOf({ HOOKGRAPH_CIRCUIT_FAILURES: '-1' }).variable, 'HOOKGRAPH_CIRCUIT_FAILURES');
  assert.equal(errorOf({ HOOKGRAPH_CIRCUIT_PROBE_BASE: 'soon' }).variable, 'HOOKGRAPH_CIRCUIT_PROBE_BASE');
  assert.equal(errorOf({ HOOKGRAPH_CIRCUIT_PROBE_BASE: '0' }).variable, 'HOOKGRAPH_CIRCUIT_PROBE_BASE');
  assert.match(errorOf({ HOOKGRAPH_CIRCUIT_PROBE_BASE: '10m' }).message, /^HOOKGRAPH_CIRCUIT_PROBE_MAX: must be at least HOOKGRAPH_CIRCUIT_PROBE_BASE/);
});

test('values are parsed once into typed fields', () => {
  const config = loadConfig({
    PORT: '8080',
    DATABASE_URL: 'postgres://u:p@db:5432/hookgraph',
    HOOKGRAPH_SECRET_KEY: KEY,
    HOOKGRAPH_ALLOW_TARGETS: '127.0.0.0/8, ::1,hooks.internal',
    HOOKGRAPH_RETRY_SCHEDULE: '0,200ms,400ms',
    HOOKGRAPH_DELIVERY_TIMEOUT: '2s',
  });
  assert.equal(config.port, 8080);
  assert.equal(config.secretKey?.toString('hex'), KEY);
  assert.deepEqual(config.allowTargets, ['127.0.0.0/8', '::1', 'hooks.internal']);
  assert.deepEqual(config.retrySchedule, [0, 200, 400]);
  assert.equal(config.deliveryTimeoutMs, 2000);
});

test('each bad value names its variable and what is wrong', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'eighty' }, 'PORT', /not a whole number/],
    [{ PORT: '70000' }, 'PORT', /outside/],
    [{ HOOKGRAPH_DB_CONNECTIONS: '5' }, 'HOOKGRAPH_DB_CONNECTIONS', /outside/],
    [{ DATABASE_URL: 'not a url', HOOKGRAPH_SECRET_KEY: KEY }, 'DATABASE_URL', /not a URL/],
    [{ DATABASE_URL: 'mysql://db/x', HOOKGRAPH_SECRET_KEY: KEY }, 'DATABASE_URL', /scheme "mysql"/],
    [{ DATABASE_URL: 'postgres://db/x' }, 'HOOKGRAPH_SECRET_KEY', /required when DATABASE_URL/],
    [{ HOOKGRAPH_SECRET_KEY: 'abc' }, 'HOOKGRAPH_SECRET_KEY', /64 hex/],
    [{ HOOKGRAPH_SECRET_KEY: 'zz'.repeat(32) }, 'HOOKGRAPH_SECRET_KEY', /64 hex/],
    [{ HOOKGRAPH_DELIVERY_TIMEOUT: 'soon' }, 'HOOKGRAPH_DELIVERY_TIMEOUT', /not a duration/],
    [{ HOOKGRAPH_RETRY_SCHEDULE: '0,5s,later' }, 'HOOKGRAPH_RETRY_SCHEDULE', /entry 3 "later"/],
    [{ HOOKGRAPH_ALLOW_TARGETS: '10.0.0.0/99' }, 'HOOKGRAPH_ALLOW_TARGETS', /not a valid CIDR/],
    [{ HOOKGRAPH_ALLOW_TARGETS: 'bad host!' }, 'HOOKGRAPH_ALLOW_TARGETS', /neither/],
    [{ HOOKGRAPH_ROOT_KEY: 'short' }, 'HOOKGRAPH_ROOT_KEY', /at least 24/],
    [{ HOOKGRAPH_LOG_LEVEL: 'loud' }, 'HOOKGRAPH_LOG_LEVEL', /not one of/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT', /not an http/],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', /not an http/],
  ];
  for (const [env, variable, problem] of cases) {
    const error = errorOf(env);
    assert.equal(error.variable, variable, JSON.stringify(env));
    assert.match(error.message, new RegExp(`^${variable}: `));
    assert.match(error.message, problem);
    assert.ok(!error.message.includes('\n'), 'one line');
  }
});

test('tracing is on with an OTLP endpoint, unless the SDK or the traces exporter is turned off', () => {
  assert.equal(loadConfig({}).tracing, false);
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing, true);
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' }).tracing, true);
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing, false);
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing, false);
  assert.equal(loadConfig({ OTEL_SERVICE_NAME: 'hookgraph', OTEL_TRACES_SAMPLER: 'always_on' }).tracing, false, 'other OTEL_* variables alone do not turn it on');
});

test('durations', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('42'), 42);
  assert.equal(parseDuration('-1s'), undefined);
  assert.equal(parseDuration('5 minutes'), undefined);
});

test('response and socket limits: defaults, growth with the payload limit, and room for one payload', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.maxResponseBytes, 8 * 1024 * 1024);
  assert.equal(defaults.maxSocketsPerKey, 20);
  assert.equal(loadConfig({ HOOKGRAPH_MAX_PAYLOAD_BYTES: String(16 * 1024 * 1024) }).maxResponseBytes, 32 * 1024 * 1024);
  const set = loadConfig({ HOOKGRAPH_MAX_RESPONSE_BYTES: '1048576', HOOKGRAPH_MAX_SOCKETS_PER_KEY: '5' });
  assert.equal(set.maxResponseBytes, 1_048_576);
  assert.equal(set.maxSocketsPerKey, 5);
  const tooSmall = errorOf({ HOOKGRAPH_MAX_RESPONSE_BYTES: '200000' });
  assert.equal(tooSmall.variable, 'HOOKGRAPH_MAX_RESPONSE_BYTES');
  assert.match(tooSmall.message, /at least HOOKGRAPH_MAX_PAYLOAD_BYTES \+ 4 KiB \(266240\)/);
  assert.equal(errorOf({ HOOKGRAPH_MAX_SOCKETS_PER_KEY: '0' }).variable, 'HOOKGRAPH_MAX_SOCKETS_PER_KEY');
});
