import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startTestApp } from '../helpers/app.js';
import { post } from '../helpers/fuzz.js';

// The app runs in this process, so its memory is this process's memory.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const app = await startTestApp({ label: 'memory', role: 'api', env: { NODE_ENV: 'production' } });
const { adminKey } = await app.createTenant('Tenant A');
const MB = 1024 * 1024;

function settled(): { rss: number; heapUsed: number } {
  for (let i = 0; i < 3; i++) gc();
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  process.stderr.write(`memory: rss ${Math.round(rss / MB)} MB, heap used ${Math.round(heapUsed / MB)} of ${Math.round(heapTotal / MB)} MB\n`);
  return { rss, heapUsed };
}

/** A distinct valid document of at most `chars` characters, within the query limits (one root field, a long argument). */
function bigDocument(seed: number, chars: number): string {
  const head = `{ event(id: "${seed}-`;
  const tail = '") { id } }';
  return head + 'x'.repeat(Math.max(0, chars - head.length - tail.length)) + tail;
}

test('memory returns near its baseline after huge documents and variables', async () => {
  for (let i = 0; i < 20; i++) await post(app.url, JSON.stringify({ query: '{ viewer { __typename } }' }), adminKey);
  const baseline = settled();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 5; i++) {
      // Over the document limit: refused before parsing.
      const huge = await post(app.url, JSON.stringify({ query: bigDocument(round * 100 + i, 4 * MB) }), adminKey);
      assert.equal(huge.status, 413);
      // Just under it: parsed, validated, executed, and cached by Apollo.
      const large = await post(app.url, JSON.stringify({ query: bigDocument(round * 100 + i, 100 * 1024 - 64) }), adminKey);
      assert.equal(large.json?.errors, undefined, large.text.slice(0, 300));
      assert.equal(large.json?.data?.event, null);
      // Huge variables.
      const variables = await post(app.url, JSON.stringify({ query: 'query($j: JSON) { viewer { __typename } }', variables: { j: Array.from({ length: 400_000 }, (_, k) => ({ k })) } }), adminKey);
      assert.ok(variables.status < 500);
    }
    settled();
  }
  const after = settled();
  // Generous bounds (the client runs in this process too). Before the document limit and the bounded
  // document cache, this traffic took rss from about 180 MB to 1.3 GB and heap used grew every round.
  assert.ok(after.heapUsed - baseline.heapUsed < 48 * MB, `heap used grew from ${Math.round(baseline.heapUsed / MB)} MB to ${Math.round(after.heapUsed / MB)} MB`);
  assert.ok(after.rss - baseline.rss < 512 * MB, `rss grew from ${Math.round(baseline.rss / MB)} MB to ${Math.round(after.rss / MB)} MB`);
});
