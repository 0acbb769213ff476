import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, type Level } from '../../src/log.js';

/** A logger writing into an array of parsed JSON lines. */
function collecting(level: Level = 'debug', base: Record<string, unknown> = {}) {
  const lines: Record<string, any>[] = [];
  const log = createLogger(level, base, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

test('writes one JSON line per entry with time, level name, message and fields', () => {
  const { log, lines } = collecting('debug', { role: 'worker' });
  log.info('delivery recorded', { deliveryId: 'd1', count: 3 });
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line.level, 'info');
  assert.equal(line.msg, 'delivery recorded');
  assert.equal(line.deliveryId, 'd1');
  assert.equal(line.count, 3);
  assert.equal(line.role, 'worker');
  assert.equal(line.pid, process.pid);
  assert.ok(!Number.isNaN(Date.parse(line.time)), `time ${line.time} is an ISO date`);
});

test('entries below the level are dropped', () => {
  const { log, lines } = collecting('warn');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['warn', 'w'], ['error', 'e']]);
});

test('child loggers merge their fields into every line, and the parent keeps its own', () => {
  const { log, lines } = collecting();
  const child = log.child({ tenantId: 't1' }).child({ deliveryId: 'd1' });
  child.debug('attempt', { status: 200 });
  log.debug('parent');
  assert.deepEqual([lines[0].tenantId, lines[0].deliveryId, lines[0].status], ['t1', 'd1', 200]);
  assert.equal(lines[1].tenantId, undefined);
});

test('errors keep their type, message, stack, own properties and cause chain', () => {
  const { log, lines } = collecting();
  const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const err = Object.assign(new Error('could not open the database', { cause: root }), { code: 'DB_OPEN', detail: 'after 3 tries' });
  log.error('start failed', { err });
  const logged = lines[0].err;
  assert.equal(logged.type, 'Error');
  assert.equal(logged.message, 'could not open the database');
  assert.equal(logged.code, 'DB_OPEN');
  assert.equal(logged.detail, 'after 3 tries');
  assert.match(logged.stack, /could not open the database/);
  assert.equal(logged.cause.message, 'connect ECONNREFUSED 127.0.0.1:5432');
  assert.equal(logged.cause.code, 'ECONNREFUSED');
  log.error('plain cause', { err: new Error('outer', { cause: 'a string' }) });
  assert.equal(lines[1].err.cause, 'a string');
});

test('secrets, keys and header values are redacted, at the top level and one level down', () => {
  const { log, lines } = collecting();
  log.info('request', {
    authorization: 'Bearer hgk_live_secret',
    headers: { 'x-api-key': 'v' },
    secret: 'whsec_abc',
    request: { headers: { authorization: 'Bearer x' }, requestHeaders: { a: 'b' }, path: '/graphql' },
    tenantId: 't1',
  });
  const line = lines[0];
  assert.equal(line.authorization, '[redacted]');
  assert.equal(line.headers, '[redacted]');
  assert.equal(line.secret, '[redacted]');
  assert.equal(line.request.headers, '[redacted]');
  assert.equal(line.request.requestHeaders, '[redacted]');
  assert.equal(line.request.path, '/graphql');
  assert.equal(line.tenantId, 't1');
  const raw = JSON.stringify(line);
  for (const secret of ['hgk_live_secret', 'whsec_abc', 'x-api-key', 'Bearer x']) assert.ok(!raw.includes(secret), `${secret} is not logged`);
});
