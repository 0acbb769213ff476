import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { signingSecretBytes } from '../../src/domain/secrets.js';
import { sign, signatureHeader, webhookHeaders } from '../../src/delivery/signing.js';

// The shared Standard Webhooks test vector.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

test('signs the Standard Webhooks test vector', () => {
  assert.equal(sign(signingSecretBytes(SECRET)!, ID, TIMESTAMP, BODY), EXPECTED);
});

test('a rotation signs with every secret, space-separated, and the standardwebhooks package accepts either', () => {
  const other = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
  const header = signatureHeader([signingSecretBytes(other)!, signingSecretBytes(SECRET)!], ID, TIMESTAMP, BODY);
  const parts = header.split(' ');
  assert.equal(parts.length, 2);
  assert.equal(parts[1], EXPECTED);
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders([signingSecretBytes(other)!, signingSecretBytes(SECRET)!], ID, now, BODY);
  for (const secret of [SECRET, other]) {
    assert.deepEqual(new Webhook(secret).verify(BODY, headers), JSON.parse(BODY));
  }
  assert.throws(() => new Webhook('whsec_' + Buffer.alloc(32, 9).toString('base64')).verify(BODY, headers));
});

test('a changed body or timestamp no longer verifies', () => {
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders([signingSecretBytes(SECRET)!], ID, now, BODY);
  assert.throws(() => new Webhook(SECRET).verify('{"test": 2432232315}', headers));
  assert.throws(() => new Webhook(SECRET).verify(BODY, { ...headers, 'webhook-timestamp': String(now + 1) }));
});
