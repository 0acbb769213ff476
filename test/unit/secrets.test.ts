import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isOutdatedSeal, openSecret, sealSecret } from '../../src/domain/secrets.js';
import { headersNeedSealing, maskHeaders, openHeaders, resealHeaders, sealHeaders, updatedHeaders } from '../../src/domain/subscription-headers.js';
import { sealV1 } from '../helpers/legacy-seal.js';

const key = randomBytes(32);
const rowA = '0193a000-0000-7000-8000-00000000000a';
const rowB = '0193a000-0000-7000-8000-00000000000b';

test('v2 seals open with the same key and row, with a fresh IV each time', () => {
  const sealed = sealSecret(key, 'whsec_abc', rowA);
  assert.match(sealed, /^v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
  assert.equal(openSecret(key, sealed, rowA), 'whsec_abc');
  assert.notEqual(sealSecret(key, 'whsec_abc', rowA), sealed);
  assert.equal(isOutdatedSeal(sealed), false);
});

test('a v2 value copied to another row, or opened with another key, does not open', () => {
  const sealed = sealSecret(key, 'Bearer receiver-credential', rowA);
  assert.throws(() => openSecret(key, sealed, rowB));
  assert.throws(() => openSecret(randomBytes(32), sealed, rowA));
  const [version, iv, tag, ciphertext] = sealed.split('.');
  const flipped = Buffer.from(ciphertext, 'base64url');
  flipped[0] ^= 1;
  assert.throws(() => openSecret(key, [version, iv, tag, flipped.toString('base64url')].join('.'), rowA));
  // Downgrading the version to skip the additional data fails too: the tag covers it.
  assert.throws(() => openSecret(key, ['v1', iv, tag, ciphertext].join('.'), rowA));
});

test('a truncated tag is refused, though GCM would accept a short one', () => {
  const [version, iv, tag, ciphertext] = sealSecret(key, 'x', rowA).split('.');
  const short = Buffer.from(tag, 'base64url').subarray(0, 12).toString('base64url');
  assert.throws(() => openSecret(key, [version, iv, short, ciphertext].join('.'), rowA), /unknown format/);
  assert.throws(() => openSecret(key, 'v3.a.b.c', rowA), /unknown format/);
  assert.throws(() => openSecret(key, 'v2.a.b', rowA), /unknown format/);
});

test('v1 values (no additional data) still open, in any row, and are outdated', () => {
  const sealed = sealV1(key, 'whsec_old');
  assert.equal(openSecret(key, sealed, rowA), 'whsec_old');
  assert.equal(openSecret(key, sealed, rowB), 'whsec_old');
  assert.equal(isOutdatedSeal(sealed), true);
  assert.throws(() => openSecret(randomBytes(32), sealed, rowA));
});

test('headers: sealed per value, masked by name, legacy plain and v1 values resealed as v2', () => {
  const stored = sealHeaders(key, rowA, { authorization: 'Bearer t', 'x-team': 'billing' });
  assert.deepEqual(Object.keys(stored), ['authorization', 'x-team']);
  assert.ok(Object.values(stored).every((v) => v.startsWith('v2.') && !v.includes('billing')));
  assert.deepEqual(openHeaders(key, rowA, stored), { authorization: 'Bearer t', 'x-team': 'billing' });
  assert.throws(() => openHeaders(key, rowB, stored));
  assert.deepEqual(maskHeaders(stored), { authorization: '********', 'x-team': '********' });
  assert.equal(headersNeedSealing(stored), false);

  const legacy = { authorization: 'plain:Bearer old', 'x-team': sealV1(key, 'billing') };
  assert.equal(headersNeedSealing(legacy), true);
  const resealed = resealHeaders(key, rowA, legacy);
  assert.equal(headersNeedSealing(resealed), false);
  assert.deepEqual(openHeaders(key, rowA, resealed), { authorization: 'Bearer old', 'x-team': 'billing' });
});

test('headers update: "********" keeps the stored value, others replace, names left out go, unknown kept names are reported', () => {
  const stored = sealHeaders(key, rowA, { authorization: 'Bearer t', 'x-team': 'billing', 'x-gone': '1' });
  const { headers, unknownKept } = updatedHeaders(key, rowA, stored, { authorization: '********', 'x-team': 'payments', 'x-new': '********' });
  assert.deepEqual(unknownKept, ['x-new']);
  assert.equal(headers.authorization, stored.authorization);
  assert.deepEqual(openHeaders(key, rowA, headers), { authorization: 'Bearer t', 'x-team': 'payments' });
  assert.deepEqual(updatedHeaders(key, rowA, null, { a: '********' }).unknownKept, ['a']);
});
