import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../helpers/app.js';

// No allow-list: every non-public target class must be refused at create time, through the real endpoint.
const app = await startTestApp({ label: 'targets', env: { HOOKGRAPH_ALLOW_TARGETS: '' } });
const { adminKey } = await app.createTenant();
const CREATE = 'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id } secret userErrors { field message code } } }';

const refused: [string, string][] = [
  ['http://127.0.0.1/hook', 'FORBIDDEN_TARGET'],
  ['http://127.1.2.3:8080/hook', 'FORBIDDEN_TARGET'],
  ['http://10.1.2.3/hook', 'FORBIDDEN_TARGET'],
  ['http://172.16.0.1/hook', 'FORBIDDEN_TARGET'],
  ['http://172.31.255.254/hook', 'FORBIDDEN_TARGET'],
  ['http://192.168.1.1/hook', 'FORBIDDEN_TARGET'],
  ['http://169.254.169.254/latest/meta-data', 'FORBIDDEN_TARGET'],
  ['http://[::1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[fc00::1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[fd12:3456::1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[::ffff:127.0.0.1]/hook', 'FORBIDDEN_TARGET'],
  ['http://0.0.0.0/hook', 'FORBIDDEN_TARGET'],
  ['http://224.0.0.1/hook', 'FORBIDDEN_TARGET'],
  ['http://2130706433/hook', 'FORBIDDEN_TARGET'],
  ['http://localhost:4000/hook', 'FORBIDDEN_TARGET'],
  ['http://[::127.0.0.1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[::7f00:1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[::a9fe:a9fe]/hook', 'FORBIDDEN_TARGET'],
  ['http://[64:ff9b::7f00:1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[64:ff9b:1::a00:1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[2002:a9fe:a9fe::1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook', 'FORBIDDEN_TARGET'],
  ['http://[::]/hook', 'FORBIDDEN_TARGET'],
  ['http://[fec0::1]/hook', 'FORBIDDEN_TARGET'],
  ['http://[ff02::1]/hook', 'FORBIDDEN_TARGET'],
  ['http://100.64.0.1/hook', 'FORBIDDEN_TARGET'],
  ['http://198.18.0.1/hook', 'FORBIDDEN_TARGET'],
  ['http://240.0.0.1/hook', 'FORBIDDEN_TARGET'],
  ['http://255.255.255.255/hook', 'FORBIDDEN_TARGET'],
  ['http://0.1.2.3/hook', 'FORBIDDEN_TARGET'],
  ['ftp://example.com/hook', 'INVALID_URL'],
  ['file:///etc/passwd', 'INVALID_URL'],
  ['javascript:alert(1)', 'INVALID_URL'],
  ['http://user:pass@example.com/hook', 'INVALID_URL'],
  ['not a url', 'INVALID_URL'],
  ['http://', 'INVALID_URL'],
  ['//example.com/hook', 'INVALID_URL'],
  ['http://no-such-host.invalid/hook', 'INVALID_URL'],
];

test('refused target classes are userErrors on input.url and create nothing', async () => {
  for (const [url, code] of refused) {
    const result = (await app.gql(CREATE, { input: { url, eventTypes: ['*'] } }, adminKey)).data.webhookSubscriptionCreate;
    assert.equal(result.webhookSubscription, null, url);
    assert.equal(result.secret, null, url);
    assert.equal(result.userErrors[0]?.code, code, url);
    assert.deepEqual(result.userErrors[0].field, ['input', 'url'], url);
  }
  const { rows } = await app.app.pool.query('select count(*)::int as n from webhook_subscription');
  assert.equal(rows[0].n, 0);
});

test('a refused host name is not told which address it resolves to; a refused literal is named', async () => {
  const named = (await app.gql(CREATE, { input: { url: 'http://localhost:4000/hook', eventTypes: ['*'] } }, adminKey)).data.webhookSubscriptionCreate;
  assert.equal(named.userErrors[0].code, 'FORBIDDEN_TARGET');
  assert.match(named.userErrors[0].message, /^The host "localhost" resolves to an address that is not allowed/);
  assert.doesNotMatch(named.userErrors[0].message, /127\.0\.0\.1|::1|loopback address/);
  const literal = (await app.gql(CREATE, { input: { url: 'http://[::127.0.0.1]/hook', eventTypes: ['*'] } }, adminKey)).data.webhookSubscriptionCreate;
  assert.match(literal.userErrors[0].message, /^::7f00:1 is an IPv4-compatible IPv6 address/);
});
