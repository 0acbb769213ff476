import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { test } from 'node:test';
import { signingSecretBytes } from '../../src/domain/secrets.js';
import { buildRequest, recordedHeaders, type SubscriptionTarget } from '../../src/delivery/request.js';
import { signatureHeader } from '../../src/delivery/signing.js';

const SECRET = signingSecretBytes('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')!;
const TARGET: SubscriptionTarget = {
  webhookSubscriptionId: 'sub_1',
  url: 'https://receiver.example/hook',
  headers: null,
  secretEncrypted: 'sealed',
  previousSecretEncrypted: null,
  previousSecretExpiresAt: null,
};
const NOW = 1614265330_000;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const request = (custom: Record<string, string>, traceparent?: string) =>
  buildRequest(TARGET, [createSecretKey(SECRET)], custom, 'msg_1', '{"n":1}', 'hookgraph/test', NOW, traceparent);

test('every custom header value is redacted, whatever its name; hookgraph’s own headers are recorded as sent, the signature included', () => {
  const custom = { authorization: 'Bearer receiver-credential', 'x-api-key': 'k-123', cookie: 'session=abc', 'x-team': 'billing', 'x-empty': '', accept: 'application/json' };
  const sent = request(custom);
  const recorded = recordedHeaders(sent.headers);
  for (const name of Object.keys(custom)) assert.equal(recorded[name], '[redacted]', name);
  assert.deepEqual(
    { id: recorded['webhook-id'], timestamp: recorded['webhook-timestamp'], signature: recorded['webhook-signature'], type: recorded['content-type'], agent: recorded['user-agent'] },
    { id: 'msg_1', timestamp: '1614265330', signature: signatureHeader([SECRET], 'msg_1', 1614265330, '{"n":1}'), type: 'application/json', agent: 'hookgraph/test' },
  );
  assert.match(recorded['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
  assert.doesNotMatch(JSON.stringify(recorded), /receiver-credential|k-123|session=abc|billing/);
  assert.deepEqual(Object.keys(recorded).sort(), Object.keys(sent.headers).sort(), 'every header is listed, none dropped');
});

test('a custom header named like one of hookgraph’s is replaced by hookgraph’s value before it is recorded', () => {
  const sent = request({ 'webhook-signature': 'v1,forged', 'content-type': 'text/plain' });
  const recorded = recordedHeaders(sent.headers);
  assert.equal(recorded['webhook-signature'], sent.headers['webhook-signature']);
  assert.notEqual(recorded['webhook-signature'], 'v1,forged');
  assert.equal(recorded['content-type'], 'application/json');
});

test('traceparent is recorded only when it is hookgraph’s own (a traced attempt, a well-formed value)', () => {
  assert.equal(recordedHeaders(request({}, TRACEPARENT).headers, true).traceparent, TRACEPARENT);
  // Untraced, a traceparent can only be a custom header: a secret like any other.
  assert.equal(recordedHeaders(request({ traceparent: TRACEPARENT }).headers, false).traceparent, '[redacted]');
  assert.equal(recordedHeaders({ traceparent: 'not-a-trace-context' }, true).traceparent, '[redacted]', 'malformed: not ours');
  assert.equal(recordedHeaders({ traceparent: TRACEPARENT.toUpperCase() }, true).traceparent, '[redacted]', 'W3C trace context is lowercase hex');
});

test('applied again on read, redaction is idempotent and catches values stored before it', () => {
  const stored = { 'webhook-id': 'msg_1', 'x-team': 'billing', authorization: '[redacted]' };
  const once = recordedHeaders(stored);
  assert.deepEqual(once, { 'webhook-id': 'msg_1', 'x-team': '[redacted]', authorization: '[redacted]' });
  assert.deepEqual(recordedHeaders(once), once);
});
