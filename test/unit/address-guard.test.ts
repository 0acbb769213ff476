import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressGuard, parseAddress, parseAllowEntry } from '../../src/delivery/address-guard.js';

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

// address → why it is refused (as refusalFor words it), or undefined when it may be contacted.
const TABLE: [string, string | undefined][] = [
  ['93.184.216.34', undefined],
  ['8.8.8.8', undefined],
  ['100.63.255.255', undefined],
  ['100.128.0.0', undefined],
  ['198.17.255.255', undefined],
  ['198.20.0.0', undefined],
  ['223.255.255.255', undefined],
  ['0.0.0.0', 'an unspecified address'],
  ['0.1.2.3', 'an unspecified address'],
  ['127.0.0.1', 'a loopback address'],
  ['10.0.0.1', 'a private address'],
  ['169.254.169.254', 'a link-local address'],
  ['100.64.0.1', 'a carrier-grade NAT address'],
  ['100.127.255.255', 'a carrier-grade NAT address'],
  ['198.18.0.1', 'a reserved address'],
  ['198.19.255.255', 'a reserved address'],
  ['240.0.0.1', 'a reserved address'],
  ['255.255.255.254', 'a reserved address'],
  ['255.255.255.255', 'a broadcast address'],
  ['224.0.0.1', 'a multicast address'],
  ['239.255.255.250', 'a multicast address'],
  ['2606:4700:4700::1111', undefined],
  ['2a00:1450:4001::200e', undefined],
  ['::', 'an unspecified address'],
  ['::1', 'a loopback address'],
  ['fe80::1', 'a link-local address'],
  ['fec0::1', 'a site-local address'],
  ['fc00::1', 'a unique-local address'],
  ['fd12:3456::1', 'a unique-local address'],
  ['ff02::1', 'a multicast address'],
  ['ff0e::1', 'a multicast address'],
  ['2001:db8::1', 'a reserved address'],
  // IPv4-compatible (::/96), whatever it embeds
  ['::127.0.0.1', 'an IPv4-compatible IPv6 address'],
  ['::7f00:1', 'an IPv4-compatible IPv6 address'],
  ['::a00:1', 'an IPv4-compatible IPv6 address'],
  ['::8.8.8.8', 'an IPv4-compatible IPv6 address'],
  // IPv4-mapped, NAT64 well-known prefix and 6to4: judged by the IPv4 they carry
  ['::ffff:127.0.0.1', 'an IPv6 form of 127.0.0.1, a loopback address'],
  ['::ffff:a9fe:a9fe', 'an IPv6 form of 169.254.169.254, a link-local address'],
  ['::ffff:8.8.8.8', undefined],
  ['64:ff9b::10.0.0.1', 'an IPv6 form of 10.0.0.1, a private address'],
  ['64:ff9b::7f00:1', 'an IPv6 form of 127.0.0.1, a loopback address'],
  ['64:ff9b::808:808', undefined],
  ['2002:7f00:1::1', 'an IPv6 form of 127.0.0.1, a loopback address'],
  ['2002:a9fe:a9fe::', 'an IPv6 form of 169.254.169.254, a link-local address'],
  ['2002:808:808::1', undefined],
  // the rest of the IPv4-carrying forms are refused outright
  ['64:ff9b:1::808:808', 'a local-use NAT64 address'],
  ['::ffff:0:808:808', 'an IPv4-translated address'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'a Teredo address'],
  ['100::1', 'a discard address'],
  // outside 2000::/3
  ['4000::1', 'an address outside the global unicast range 2000::/3'],
  ['1::1', 'an address outside the global unicast range 2000::/3'],
  ['not-an-ip', 'not an IP address'],
];

test('the address table: every special range and IPv4-carrying IPv6 form', () => {
  const guard = new AddressGuard([]);
  for (const [address, refusal] of TABLE) assert.equal(guard.refusalFor(address), refusal, address);
});

test('::a.b.c.d is read as IPv4-compatible, not IPv4-mapped', () => {
  assert.equal(parseAddress('::127.0.0.1')?.toNormalizedString(), '0:0:0:0:0:0:7f00:1');
  assert.equal(parseAddress('::ffff:127.0.0.1')?.toNormalizedString(), '0:0:0:0:0:ffff:7f00:1');
  assert.equal(parseAddress('::1.2.3.256'), undefined);
  assert.deepEqual(parseAllowEntry('::127.0.0.1/128'), { cidr: [parseAddress('::7f00:1'), 128] });
  assert.throws(() => parseAllowEntry('10.0.0.0/33'), /not a valid CIDR/);
  assert.throws(() => parseAllowEntry('10.0.0.0/x'), /not a valid CIDR/);
});

test('the allow-list admits what it lists, in every form that carries it', () => {
  const guard = new AddressGuard(['127.0.0.0/8', '100.64.0.0/10', '::7f00:1', 'fd00::/8']);
  for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::', '100.64.1.1', '::7f00:1', '::127.0.0.1', 'fd00::5']) {
    assert.equal(guard.refusalFor(address), undefined, address);
  }
  for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '::7f00:2', 'fc00::1']) assert.ok(guard.refusalFor(address), address);
});

test('a refused literal is named in the message; the addresses a name resolves to never are', async () => {
  const guard = new AddressGuard([], resolver({ 'internal.test': ['93.184.216.34', '10.20.30.40'], 'meta.test': ['fd00::a9fe:a9fe'] }));
  for (const [url, named] of [['http://[::127.0.0.1]/x', '::7f00:1'], ['http://2130706433/x', '127.0.0.1'], ['http://[64:ff9b::a00:1]/x', '64:ff9b::a00:1']]) {
    const literal = await guard.checkUrl(url);
    assert.ok(!literal.ok && literal.code === 'FORBIDDEN_TARGET', url);
    assert.ok(literal.message.startsWith(`${named} is `), literal.message);
  }
  for (const host of ['internal.test', 'meta.test']) {
    const named = await guard.checkUrl(`https://${host}/x`);
    assert.ok(!named.ok && named.code === 'FORBIDDEN_TARGET');
    assert.equal(named.message, `The host "${host}" resolves to an address that is not allowed (private, loopback, link-local, metadata or another special-purpose address), which hookgraph does not deliver to (see HOOKGRAPH_ALLOW_TARGETS).`);
  }
  const lookup = await new Promise<Error | null>((resolve) => guard.lookup('internal.test', {}, (err) => resolve(err)));
  assert.equal(lookup?.message, 'refused to connect to internal.test: it resolves to an address that is not allowed (private, loopback, link-local, metadata or another special-purpose address)');
});

test('with the default resolver, localhost is loopback (refused, unnamed) unless allow-listed', async () => {
  const refused = await new AddressGuard([]).checkUrl('http://localhost:4000/x');
  assert.ok(!refused.ok && refused.code === 'FORBIDDEN_TARGET');
  assert.doesNotMatch(refused.message, /127\.0\.0\.1|::1/);
  const allowed = await new AddressGuard(['127.0.0.0/8', '::1']).checkUrl('http://localhost:4000/x');
  assert.ok(allowed.ok);
  assert.deepEqual(allowed.addresses, ['127.0.0.1', '::1']);
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
