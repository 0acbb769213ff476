import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HEAP_FLAGS, missingHeapFlags } from '../../src/heap-flags.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

test('every way of starting hookgraph passes the heap flags to node', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const [script, role] of [['start', 'serve'], ['api', 'api'], ['worker', 'worker']]) {
    assert.ok(scripts[script]!.endsWith(`node ${HEAP_FLAGS.join(' ')} dist/src/main.js ${role}`), `npm run ${script}: ${scripts[script]}`);
  }
  const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read('Dockerfile'))?.[1];
  assert.deepEqual(JSON.parse(entrypoint ?? 'null'), ['node', ...HEAP_FLAGS, 'dist/src/main.js']);
  assert.equal(read('src/main.ts').split('\n')[0], `#!/usr/bin/env -S node ${HEAP_FLAGS.join(' ')}`);
});

test('node accepts the heap flags, and a process started with them misses none', async () => {
  const missing = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [...HEAP_FLAGS, '--input-type=module', '-e', `import { missingHeapFlags } from ${JSON.stringify(path.join(ROOT, 'dist/src/heap-flags.js'))}; process.stdout.write(JSON.stringify(missingHeapFlags()))`], (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  assert.deepEqual(JSON.parse(missing), []);
});

test('a heap flag given with a value of its own counts as set', () => {
  assert.deepEqual(missingHeapFlags(['--max-semi-space-size=32', '--heap-growing-percent=50']), []);
  assert.deepEqual(missingHeapFlags(['--enable-source-maps']), [...HEAP_FLAGS]);
  assert.deepEqual(missingHeapFlags(['--max-semi-space-size=16']), ['--heap-growing-percent=50']);
});
