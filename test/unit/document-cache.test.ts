import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'graphql';
import { DOCUMENT_CACHE_CHARS, DocumentCache, MAX_CACHED_DOCUMENT_CHARS } from '../../src/api/document-cache.js';

/** A document of exactly `chars` characters. */
function documentOf(chars: number) {
  const text = `{ a${'_'.repeat(chars - 5)} }`;
  assert.equal(text.length, chars);
  return parse(text);
}

test('the document cache holds at most its budget of query text, evicting the least recently used', async () => {
  const cache = new DocumentCache();
  const size = 8 * 1024;
  const fits = DOCUMENT_CACHE_CHARS / size;
  for (let i = 0; i < fits; i++) await cache.set(`k${i}`, documentOf(size));
  assert.ok(await cache.get('k0'), 'everything fits so far; k0 is now the most recent');
  await cache.set('extra', documentOf(size));
  assert.equal(await cache.get('k1'), undefined, 'the least recently used one made room');
  assert.ok(await cache.get('k0'));
  assert.ok(await cache.get('extra'));
});

test('documents over the per-document limit are not cached', async () => {
  const cache = new DocumentCache();
  await cache.set('big', documentOf(MAX_CACHED_DOCUMENT_CHARS + 1));
  assert.equal(await cache.get('big'), undefined);
  await cache.set('small', documentOf(100));
  assert.ok(await cache.get('small'));
  assert.equal(await cache.delete('small'), true);
  assert.equal(await cache.get('small'), undefined);
});
