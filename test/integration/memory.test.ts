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

function settledRss(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().rss;
}

/** A distinct valid document of about `chars` characters (aliases of one cheap field). */
function bigDocument(seed: number, chars: number): string {
  const field = (j: number) => `a${seed}_${j}: viewer { __typename }`;
  const count = Math.floor(chars / field(0).length);
  return `{ ${Array.from({ length: count }, (_, j) => field(j)).join(' ')} }`;
}

test('memory returns near its baseline after huge documents and variables', async () => {
  for (let i = 0; i < 20; i++) await post(app.url, JSON.stringify({ query: '{ viewer { __typename } }' }), adminKey);
  const baseline = settledRss();
  const sizes: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10; i++) {
      // Over the document limit: refused before parsing.
      const huge = await post(app.url, JSON.stringify({ query: bigDocument(round * 100 + i, 5 * MB) }), adminKey);
      assert.equal(huge.status, 413);
      // Just under it: parsed, validated, executed, and cached by Apollo.
      const large = await post(app.url, JSON.stringify({ query: bigDocument(round * 100 + i, 95 * 1024) }), adminKey);
      assert.equal(large.json?.errors, undefined, large.text.slice(0, 300));
      // Huge variables.
      const variables = await post(app.url, JSON.stringify({ query: 'query($j: JSON) { viewer { __typename } }', variables: { j: Array.from({ length: 400_000 }, (_, k) => ({ k })) } }), adminKey);
      assert.ok(variables.status < 500);
    }
    sizes.push(`${Math.round(settledRss() / MB)} MB`);
  }
  const after = settledRss();
  process.stderr.write(`memory: rss baseline ${Math.round(baseline / MB)} MB, after each round ${sizes.join(', ')}, at the end ${Math.round(after / MB)} MB\n`);
  // Generous: Apollo keeps a bounded cache of parsed documents; what matters is that it does not grow with traffic.
  assert.ok(after - baseline < 200 * MB, `rss grew from ${Math.round(baseline / MB)} MB to ${Math.round(after / MB)} MB`);
});
