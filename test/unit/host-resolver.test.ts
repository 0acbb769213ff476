import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HostResolver, parseHosts } from '../../src/delivery/host-resolver.js';
import { startDnsServer } from '../helpers/dns-server.js';

const dns = await startDnsServer({
  'receiver.test': { a: ['93.184.216.34'], aaaa: ['2606:2800:220:1::1'] },
  'v4only.test': { a: ['93.184.216.35'] },
  'cached.test': { a: ['93.184.216.36'], ttl: 300 },
  'shared.test': { a: ['93.184.216.37'] },
  'uncached.test': { a: ['93.184.216.38'], ttl: 0 },
  'hang.test': 'silent',
  'hang1.test': 'silent',
  'hang2.test': 'silent',
  'queued.test': { a: ['93.184.216.39'] },
  'lru1.test': { a: ['93.184.216.40'] },
  'lru2.test': { a: ['93.184.216.41'] },
  'capped.test': { a: ['93.184.216.42'], ttl: 300 },
});
const hostsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-hosts-')), 'hosts');
fs.writeFileSync(hostsFile, '127.0.0.1 localhost\n10.1.2.3  internal.test  alias.test # comment\n# 10.9.9.9 commented.test\n::1 ip6-localhost\n');
const resolver = (options: ConstructorParameters<typeof HostResolver>[0] = {}) => new HostResolver({ servers: [dns.address], hostsFile, ...options });
const asked = (name: string) => dns.questions.filter((q) => q.startsWith(`${name} `)).length;

test('A and AAAA answers come from the name server, IPv4 first; a name with no records is ENOTFOUND', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve('receiver.test'), ['93.184.216.34', '2606:2800:220:1::1']);
  assert.deepEqual(await r.resolve('V4ONLY.test.'), ['93.184.216.35'], 'case and a trailing dot do not matter');
  await assert.rejects(r.resolve('missing.test'), { name: 'ResolveError', code: 'ENOTFOUND' });
});

test('localhost is loopback and /etc/hosts names come from the file, without asking the name server', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve('localhost'), ['127.0.0.1', '::1']);
  assert.deepEqual(await r.resolve('api.localhost'), ['127.0.0.1', '::1']);
  assert.deepEqual(await r.resolve('alias.test'), ['10.1.2.3']);
  assert.deepEqual(await r.resolve('ip6-localhost'), ['::1']);
  await assert.rejects(r.resolve('commented.test'), { code: 'ENOTFOUND' });
  assert.equal(asked('localhost') + asked('api.localhost') + asked('alias.test') + asked('ip6-localhost'), 0);
  assert.deepEqual(parseHosts('10.0.0.1 a b\n10.0.0.2 a\nnot-an-ip c\n'), new Map([['a', ['10.0.0.1', '10.0.0.2']], ['b', ['10.0.0.1']]]));
});

test('answers are cached for their TTL (capped); concurrent lookups of one name share one query; TTL 0 is not cached', async () => {
  const r = resolver();
  assert.deepEqual(await r.resolve('cached.test'), ['93.184.216.36']);
  assert.deepEqual(await r.resolve('cached.test'), ['93.184.216.36']);
  assert.equal(asked('cached.test'), 2, 'one A and one AAAA question');
  const answers = await Promise.all([r.resolve('shared.test'), r.resolve('shared.test'), r.resolve('shared.test')]);
  assert.deepEqual(answers, [['93.184.216.37'], ['93.184.216.37'], ['93.184.216.37']]);
  assert.equal(asked('shared.test'), 2);
  await r.resolve('uncached.test');
  await r.resolve('uncached.test');
  assert.equal(asked('uncached.test'), 4);
});

test('the cache holds cacheSize names, dropping the least recently used, and an answer expires after the capped TTL', async () => {
  const r = resolver({ cacheSize: 1 });
  await r.resolve('lru1.test');
  await r.resolve('lru2.test');
  await r.resolve('lru2.test');
  assert.equal(asked('lru2.test'), 2, 'the newest name is cached');
  await r.resolve('lru1.test');
  assert.equal(asked('lru1.test'), 4, 'the older name made room and is asked again');

  const short = resolver({ cacheTtlMs: 20 });
  await short.resolve('capped.test');
  await short.resolve('capped.test');
  assert.equal(asked('capped.test'), 2, 'cached within the cap');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await short.resolve('capped.test');
  assert.equal(asked('capped.test'), 4, 'the record says 300 s, the cap of 20 ms wins');
});

test('a name server that never answers: the lookup is cancelled at its deadline as a temporary failure, and its slot is freed', async () => {
  const r = resolver({ deadlineMs: 300, tryTimeoutMs: 10_000, tries: 1, maxInFlight: 1 });
  await assert.rejects(r.resolve('hang.test'), { code: 'EAI_AGAIN', message: /hang\.test did not resolve within 300 ms/ });
  assert.deepEqual(await r.resolve('receiver.test'), ['93.184.216.34', '2606:2800:220:1::1'], 'the next lookup runs');
});

test('at most maxInFlight lookups run, maxQueued wait, the rest are refused at once', async () => {
  // The hanging names fail on c-ares's own try timeout, well before the deadline.
  const r = resolver({ deadlineMs: 10_000, tryTimeoutMs: 100, tries: 1, maxInFlight: 2, maxQueued: 1 });
  await r.resolve('alias.test'); // /etc/hosts read
  const outcomes: string[] = [];
  const track = (name: string) => r.resolve(name).then((a) => outcomes.push(`${name} ${a.join(',')}`), (e) => outcomes.push(`${name} ${e.code}`));
  const all = [track('hang1.test'), track('hang2.test'), track('queued.test'), track('refused.test')];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(outcomes, ['refused.test EAI_AGAIN'], 'over the queue: refused before anything answers');
  assert.equal(asked('queued.test'), 0, 'the queued name waits for a slot');
  await Promise.all(all);
  // The queued name was asked only once a hanging one gave up (which of the two, and whether the
  // other gives up before the queued answer arrives, is up to the timers), and it was answered.
  assert.match(outcomes[1], /^hang[12]\.test EAI_AGAIN$/, 'a hanging lookup gives up first');
  assert.deepEqual(outcomes.slice(1).sort(), ['hang1.test EAI_AGAIN', 'hang2.test EAI_AGAIN', 'queued.test 93.184.216.39']);
  assert.ok(dns.questions.indexOf('queued.test A') > dns.questions.indexOf('hang2.test AAAA'));
  assert.equal(asked('refused.test'), 0);
});
