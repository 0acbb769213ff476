import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import express from 'express';
import { findAdminDist, mountAdmin } from '../../src/api/admin-route.js';

/** /admin without a build answers 503 with the command to run, and starts serving once the build appears. */
test('/admin answers 503 with a hint until admin/dist exists, then serves it', async () => {
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-admin-dist-'));
  fs.rmSync(dist, { recursive: true });
  const app = express();
  mountAdmin(app, dist);
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  after(() => (server.close(), fs.rmSync(dist, { recursive: true, force: true })));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const missing = await fetch(`${base}/admin`);
  assert.equal(missing.status, 503);
  assert.match(await missing.text(), /npm run admin:build/);

  fs.mkdirSync(path.join(dist, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>console</title>');
  fs.writeFileSync(path.join(dist, 'assets', 'app-abc123.js'), 'export {};');
  const index = await fetch(`${base}/admin/event-types`);
  assert.equal(index.status, 200);
  assert.match(await index.text(), /console/);
  assert.match(index.headers.get('content-security-policy') ?? '', /^default-src 'self'; connect-src 'self';/);
  const asset = await fetch(`${base}/admin/assets/app-abc123.js`);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await fetch(`${base}/admin`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${base}/administrator`)).status, 404, 'only /admin and below');
});

test('the console is found from the compiled module', () => {
  assert.ok(fs.existsSync(path.join(path.dirname(findAdminDist()), 'index.html')));
});
