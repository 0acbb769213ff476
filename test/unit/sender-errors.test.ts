import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errors } from 'undici';
import { AddressGuard, BlockedAddressError } from '../../src/delivery/address-guard.js';
import { ResolveError } from '../../src/delivery/host-resolver.js';
import { classifyError, Sender } from '../../src/delivery/sender.js';

const TIMEOUT_MS = 2000;
const classify = (error: unknown, timedOut = false) => classifyError(error, timedOut, TIMEOUT_MS);
/** As undici reports a failed connection: a generic error with the cause underneath. */
const wrapped = (cause: unknown) => new TypeError('fetch failed', { cause });

test('timeouts: the deadline signal, a TimeoutError, or any undici *_TIMEOUT code', () => {
  const timeout = { errorKind: 'TIMEOUT', error: `no response within ${TIMEOUT_MS} ms` };
  assert.deepEqual(classify(new Error('This operation was aborted'), true), timeout, 'the request signal fired');
  assert.deepEqual(classify(new DOMException('The operation timed out.', 'TimeoutError')), timeout);
  assert.deepEqual(classify(new errors.ConnectTimeoutError()), timeout);
  assert.deepEqual(classify(new errors.HeadersTimeoutError()), timeout);
  assert.deepEqual(classify(new errors.BodyTimeoutError()), timeout);
  assert.deepEqual(classify(wrapped(new errors.ConnectTimeoutError())), timeout, 'also as a cause');
  // A timeout wins over whatever error the abort surfaced as.
  assert.deepEqual(classify(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), true), timeout);
});

test('a target the address guard refuses keeps the guard’s message', () => {
  const refused = new BlockedAddressError('refused to connect to 10.0.0.1: 10.0.0.1 is a private address');
  assert.deepEqual(classify(refused), { errorKind: 'BLOCKED_TARGET', error: refused.message });
  assert.deepEqual(classify(Object.assign(new Error(), { code: 'EBLOCKEDTARGET', message: undefined })), { errorKind: 'BLOCKED_TARGET', error: 'target address refused' });
});

test('name resolution failures are DNS, from the resolver or the system', () => {
  assert.deepEqual(classify(new ResolveError('ENOTFOUND', 'receiver.test does not resolve')), { errorKind: 'DNS', error: 'host not found (ENOTFOUND)' });
  assert.deepEqual(classify(wrapped(new ResolveError('EAI_AGAIN', 'receiver.test did not resolve within 5000 ms'))), { errorKind: 'DNS', error: 'host not found (EAI_AGAIN)' });
  assert.deepEqual(classify(Object.assign(new Error('no data'), { code: 'ENODATA' })), { errorKind: 'DNS', error: 'host not found (ENODATA)' });
});

test('TLS failures are TLS, named by their code only', () => {
  for (const code of ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'HOSTNAME_MISMATCH']) {
    assert.deepEqual(classify(wrapped(Object.assign(new Error(`certificate problem at /etc/ssl/${code}`), { code }))), { errorKind: 'TLS', error: `TLS error (${code})` }, code);
  }
});

test('anything else is CONNECTION with its code and message, cut to 500 characters', () => {
  assert.deepEqual(classify(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })), { errorKind: 'CONNECTION', error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9' });
  assert.deepEqual(classify(new errors.SocketError('other side closed')), { errorKind: 'CONNECTION', error: 'UND_ERR_SOCKET: other side closed' });
  assert.deepEqual(classify(new Error('boom')), { errorKind: 'CONNECTION', error: 'Error: boom' }, 'no code: the error name');
  assert.deepEqual(classify({ cause: { code: 'ECONNRESET', message: 'socket hang up' } }), { errorKind: 'CONNECTION', error: 'ECONNRESET: socket hang up' }, 'code and message from the cause');
  assert.deepEqual(classify({}), { errorKind: 'CONNECTION', error: 'error: connection failed' });
  const long = classify(Object.assign(new Error('x'.repeat(2000)), { code: 'EPIPE' }));
  assert.equal(long.error!.length, 500);
  assert.ok(long.error!.startsWith('EPIPE: xxx'));
});

test('literal IP targets the guard refuses fail before any connection, IPv6 brackets stripped, the same on a repeat (cached) send', async () => {
  const sender = new Sender({ guard: new AddressGuard([]), timeoutMs: TIMEOUT_MS });
  try {
    const request = (url: string) => sender.send({ url, headers: {}, body: '{}' });
    // The second round is answered from the per-host cache.
    for (let i = 0; i < 2; i++) {
      const v4 = await request('http://10.0.0.1:8080/hook');
      assert.equal(v4.errorKind, 'BLOCKED_TARGET');
      assert.equal(v4.error, 'refused to connect to 10.0.0.1: 10.0.0.1 is a private address');
      const v6 = await request('http://[::1]/hook');
      assert.equal(v6.error, 'refused to connect to ::1: ::1 is a loopback address');
    }
    const invalid = await request('not a url');
    assert.equal(invalid.errorKind, 'INVALID_URL');
    assert.equal(invalid.error, 'the subscription url is not a valid URL');
  } finally {
    await sender.close();
  }
});
