import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { chromiumAvailable, launchBrowser } from '../helpers/browser.js';

/**
 * The admin console in headless Chromium against a real hookgraph (serve
 * role: API + worker), a real PostgreSQL and real receivers on 127.0.0.1.
 */
const skip = chromiumAvailable() ? false : 'Chromium is not installed (apt-get install chromium)';

const app = await startTestApp({ label: 'admin' });
const browser = skip ? null : await launchBrowser();
const { adminKey } = await app.createTenant('Acme Webhooks');

test('/admin serves the console with a strict CSP, cacheable assets and client-route fallback', async () => {
  const index = await fetch(`${app.url}/admin`);
  assert.equal(index.status, 200);
  const csp = index.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /connect-src 'self' ws: wss:/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const asset = html.match(/src="(\/admin\/assets\/[^"]+\.js)"/)?.[1];
  assert.ok(asset, 'index.html references a hashed script');
  assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline scripts');

  const script = await fetch(app.url + asset);
  assert.equal(script.status, 200);
  assert.match(script.headers.get('cache-control') ?? '', /immutable/);

  const route = await fetch(`${app.url}/admin/subscriptions`);
  assert.equal(route.status, 200);
  assert.equal(await route.text(), html);
  assert.equal((await fetch(`${app.url}/admin/assets/missing-123.js`)).status, 404);
});

test('signs in through #key=, drops the key from the URL, signs out clearing the session', { skip }, async () => {
  const page = await browser!.newPage();
  await page.goto(`${app.url}/admin#key=${encodeURIComponent(adminKey)}`);
  await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the key left the address bar');
  assert.ok(!page.url().includes(adminKey));
  await page.getByText('Acme Webhooks').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('hookgraph.apiKey')), adminKey);

  // A reload keeps the session (sessionStorage), sign out forgets it.
  await page.reload();
  await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('hookgraph.apiKey')), null);
  await page.close();
});

test('a bad key gets a clear message and no session', { skip }, async () => {
  const page = await browser!.newPage();
  await page.goto(`${app.url}/admin#key=hg_this-key-does-not-exist-000000000000000000`);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /API key was not accepted/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('hookgraph.apiKey')), null);

  // Typing a bad key into the form says the same.
  await page.getByLabel('API key').fill('hg_typo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
  await page.close();
});
