import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { after, test } from 'node:test';
import { gql } from '../helpers/graphql.js';
import { spawnHookgraph } from '../helpers/process.js';

// The real CLI on the embedded PostgreSQL, as `npm start` runs it.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-lifecycle-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
const env = { HOOKGRAPH_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' };

/** PIDs of postgres server processes whose data dir is inside `dir`. */
function postgresProcesses(dir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes('postgres') && line.includes(dir) && !line.includes(' ps '))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

async function startServe() {
  const proc = spawnHookgraph('serve', env);
  const listening = await proc.waitForLog('hookgraph listening', 60_000);
  return { proc, url: `http://127.0.0.1:${listening.port}` };
}

test('serve on the embedded database: ready, root key, tenant, restart keeps data, clean stop', async () => {
  const first = await startServe();
  const ready = await fetch(`${first.url}/readyz`);
  assert.equal(ready.status, 200);

  // The generated root key is printed once and stored in the data dir.
  const rootKey = fs.readFileSync(path.join(dataDir, 'root-key'), 'utf8').trim();
  assert.ok(first.proc.stdout().includes(rootKey), 'root key printed on first start');
  assert.equal(fs.statSync(path.join(dataDir, 'root-key')).mode & 0o777, 0o600);

  const created = await gql(first.url, 'mutation { tenantCreate(input: {name: "Kept"}) { tenant { id } apiKeySecret } }', {}, rootKey);
  const { tenant, apiKeySecret } = created.data.tenantCreate;

  // A second start on the same data dir refuses clearly and leaves the first one running.
  const second = spawnHookgraph('serve', env);
  assert.equal(await second.exited, 1);
  assert.match(second.stderr(), /in use by another hookgraph/);
  assert.equal((await fetch(`${first.url}/readyz`)).status, 200);

  assert.equal(await first.proc.stop(), 0);
  assert.deepEqual(postgresProcesses(dataDir), [], 'no postgres process left after SIGTERM');

  const again = await startServe();
  assert.ok(!again.proc.stdout().includes(rootKey), 'root key not printed again');
  const viewer = await gql(again.url, '{ viewer { tenant { id name } } }', {}, apiKeySecret);
  assert.deepEqual(viewer.data.viewer.tenant, { id: tenant.id, name: 'Kept' });
  assert.equal(await again.proc.stop(), 0);
  assert.deepEqual(postgresProcesses(dataDir), []);
});

test('a bad setting stops the start with one line naming the variable', async () => {
  const proc = spawnHookgraph('serve', { ...env, HOOKGRAPH_SECRET_KEY: 'not-hex' });
  assert.equal(await proc.exited, 2);
  const lines = proc.stderr().trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /HOOKGRAPH_SECRET_KEY: must be exactly 64 hex characters/);
});

test('DATABASE_URL without a secret key is refused', async () => {
  const proc = spawnHookgraph('api', { ...env, DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' });
  assert.equal(await proc.exited, 2);
  assert.match(proc.stderr(), /HOOKGRAPH_SECRET_KEY: is required when DATABASE_URL is set/);
});

test('an unknown role is refused', async () => {
  const proc = spawnHookgraph('dance', env);
  assert.equal(await proc.exited, 2);
  assert.match(proc.stderr(), /unknown role "dance"/);
});

test('after a SIGKILL the next start takes over the orphaned PostgreSQL and keeps the data', async () => {
  const first = await startServe();
  const rootKey = fs.readFileSync(path.join(dataDir, 'root-key'), 'utf8').trim();
  const created = await gql(first.url, 'mutation { tenantCreate(input: {name: "Survivor"}) { apiKeySecret } }', {}, rootKey);
  first.proc.child.kill('SIGKILL');
  await first.proc.exited;
  assert.ok(postgresProcesses(dataDir).length > 0, 'PostgreSQL outlives a SIGKILLed parent');

  const again = await startServe();
  const viewer = await gql(again.url, '{ viewer { tenant { name } } }', {}, created.data.tenantCreate.apiKeySecret);
  assert.equal(viewer.data.viewer.tenant.name, 'Survivor');
  assert.equal(await again.proc.stop(), 0);
  assert.deepEqual(postgresProcesses(dataDir), []);
});

test('a taken port stops the start with one clear line and no postgres left behind', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const proc = spawnHookgraph('serve', { ...env, PORT: String(port) });
    assert.equal(await proc.exited, 1);
    const lines = proc.stderr().split('\n').filter((line) => line && !line.startsWith('{'));
    assert.deepEqual(lines, [`hookgraph: port ${port} is already in use; stop what uses it or set PORT to another port`]);
    assert.deepEqual(postgresProcesses(dataDir), []);
  } finally {
    blocker.close();
  }
});
