import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressGuard } from '../../src/delivery/address-guard.js';

const resolver = (table: Record<string, string[]>) => async (host: string) => {
  if (!table[host]) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return table[host];
};

test('public addresses pass, every special range is refused', async () => {
  const guard = new AddressGuard([]);
  for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.equal(guard.refusalFor(address), undefined, address);
  const refused = ['127.0.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '192.0.2.1', '::1', '::', 'fc00::1', 'fd00::1', 'fe80::1', 'ff02::1', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:a00:1::1', '2001:db8::1'];
  for (const address of refused) assert.ok(guard.refusalFor(address), address);
  assert.equal(guard.refusalFor('172.32.0.1'), undefined, 'just outside 172.16/12');
});

test('a hostname resolving to a private address is refused; any bad address refuses', async () => {
  const guard = new AddressGuard([], resolver({ 'rebind.test': ['127.0.0.1'], 'mixed.test': ['93.184.216.34', '10.0.0.5'], 'ok.test': ['93.184.216.34'] }));
  assert.equal((await guard.checkUrl('https://rebind.test/x')).ok, false);
  const mixed = await guard.checkUrl('https://mixed.test/x');
  assert.ok(!mixed.ok && mixed.code === 'FORBIDDEN_TARGET');
  const ok = await guard.checkUrl('https://ok.test/x');
  assert.ok(ok.ok);
  const missing = await guard.checkUrl('https://missing.test/x');
  assert.ok(!missing.ok && missing.code === 'INVALID_URL');
});

test('the allow-list admits CIDRs and host names', async () => {
  const guard = new AddressGuard(['127.0.0.0/8', '::1', 'internal.test', '*.corp.test'], resolver({ 'internal.test': ['10.0.0.1'], 'a.corp.test': ['10.0.0.2'], 'corp.test': ['10.0.0.3'] }));
  assert.ok((await guard.checkUrl('http://127.0.0.1:8080/x')).ok);
  assert.ok((await guard.checkUrl('http://[::1]/x')).ok);
  assert.ok((await guard.checkUrl('http://[::ffff:127.0.0.1]/x')).ok, 'mapped form of an allowed address');
  assert.ok((await guard.checkUrl('http://internal.test/x')).ok);
  assert.ok((await guard.checkUrl('http://a.corp.test/x')).ok);
  assert.equal((await guard.checkUrl('http://corp.test/x')).ok, false, '*.corp.test covers subdomains only');
  assert.equal((await guard.checkUrl('http://10.0.0.1/x')).ok, false);
  assert.throws(() => new AddressGuard(['not a host!']));
});

test('url shape: scheme, host, credentials, length', async () => {
  const guard = new AddressGuard([], resolver({ 'ok.test': ['93.184.216.34'] }));
  for (const url of ['ftp://ok.test/', 'file:///etc/passwd', 'http://u:p@ok.test/', 'ok.test/x', 'http://', `https://ok.test/${'a'.repeat(2100)}`]) {
    const result = await guard.checkUrl(url);
    assert.ok(!result.ok && result.code === 'INVALID_URL', url);
  }
});

test('lookup (send time) refuses a host that now resolves to a private address', async () => {
  const guard = new AddressGuard([], resolver({ 'rebind.test': ['10.0.0.9'], 'ok.test': ['93.184.216.34'] }));
  const lookup = (host: string) => new Promise<{ err: unknown; address: unknown }>((resolve) => guard.lookup(host, {}, (err, address) => resolve({ err, address })));
  const refused = await lookup('rebind.test');
  assert.equal((refused.err as { code?: string }).code, 'EBLOCKEDTARGET');
  const ok = await lookup('ok.test');
  assert.equal(ok.err, null);
  assert.equal(ok.address, '93.184.216.34');
});
