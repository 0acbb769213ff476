import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { errorCode } from '../helpers/graphql.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, publish, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

const STATS = `query($since: DateTime!, $until: DateTime, $bucket: Int) {
  deliveryStats(since: $since, until: $until, bucket: $bucket) {
    since until bucketSeconds
    buckets { start pending sending succeeded retrying failed cancelled total latencyP50Ms latencyP95Ms }
    total { start pending sending succeeded retrying failed cancelled total latencyP50Ms latencyP95Ms }
  }
}`;
const DELIVERIES = `query { deliveries(first: 100) { nodes { id status createdAt updatedAt event { createdAt } } } }`;
const STATUSES = ['pending', 'sending', 'succeeded', 'retrying', 'failed', 'cancelled'] as const;
const MINUTE = 60_000;

const app = await startTestApp({ label: 'delivery_stats' });
const a = await tenant(app, 'Stats A');
const b = await tenant(app, 'Stats B');
await eventType(a, 'order.created');
await eventType(b, 'order.created');

const ok = await startReceiver();
const broken = await startReceiver();
broken.respond(() => ({ status: 503 }));
await subscription(a, { url: ok.url, eventTypes: ['order.created'] });
await subscription(a, { url: broken.url, eventTypes: ['order.created'] });
await subscription(b, { url: ok.url, eventTypes: ['order.created'] });

const since = new Date(Date.now() - 5 * MINUTE);
for (let n = 0; n < 3; n++) await settled(a, (await publish(a, 'order.created', { n })).id);
for (let n = 0; n < 2; n++) await settled(b, (await publish(b, 'order.created', { n })).id);

async function stats(t: Tenant | string, variables: Record<string, unknown>) {
  return app.gql(STATS, variables, typeof t === 'string' ? t : t.key);
}

test('deliveryStats counts the tenant\'s deliveries per creation bucket by status, with publish → success latency', async () => {
  const { data: listed } = await app.gql(DELIVERIES, {}, a.key);
  const deliveries: any[] = listed.deliveries.nodes;
  assert.equal(deliveries.length, 6);
  const result = await stats(a, { since: since.toISOString() });
  assert.equal(result.errors, undefined);
  const s = result.data.deliveryStats;
  assert.equal(s.bucketSeconds, 60);
  const first = Math.floor(since.getTime() / MINUTE) * MINUTE;
  assert.equal(new Date(s.since).getTime(), first, 'since rounded down to the minute');
  const until = new Date(s.until).getTime();
  assert.equal(s.buckets.length, Math.ceil((until - first) / MINUTE));
  s.buckets.forEach((bucket: any, i: number) => assert.equal(new Date(bucket.start).getTime(), first + i * MINUTE));

  // Each bucket holds exactly the deliveries created in its minute, under their status.
  for (const bucket of s.buckets) {
    const start = new Date(bucket.start).getTime();
    const inside = deliveries.filter((d) => new Date(d.createdAt).getTime() >= start && new Date(d.createdAt).getTime() < start + MINUTE);
    for (const status of STATUSES) assert.equal(bucket[status], inside.filter((d) => d.status === status.toUpperCase()).length, `${status} at ${bucket.start}`);
    assert.equal(bucket.total, inside.length);
    if (bucket.succeeded === 0) assert.equal(bucket.latencyP95Ms, null);
    else assert.ok(bucket.latencyP50Ms >= 0 && bucket.latencyP50Ms <= bucket.latencyP95Ms);
  }
  assert.deepEqual(
    STATUSES.map((status) => s.total[status]),
    [0, 0, 3, 0, 3, 0],
  );
  assert.equal(s.total.total, 6);

  // Latency is success time minus the event's creation: the percentiles lie within the deliveries' own figures.
  const latencies = deliveries.filter((d) => d.status === 'SUCCEEDED').map((d) => new Date(d.updatedAt).getTime() - new Date(d.event.createdAt).getTime());
  const low = Math.min(...latencies) - 1;
  const high = Math.max(...latencies) + 1;
  assert.ok(s.total.latencyP50Ms >= Math.max(low, 0), `p50 ${s.total.latencyP50Ms} ≥ ${low}`);
  assert.ok(s.total.latencyP50Ms <= s.total.latencyP95Ms);
  assert.ok(s.total.latencyP95Ms <= high, `p95 ${s.total.latencyP95Ms} ≤ ${high}`);
});

test('another tenant\'s deliveries are not counted', async () => {
  const s = (await stats(b, { since: since.toISOString(), bucket: 3600 })).data.deliveryStats;
  assert.deepEqual(STATUSES.map((status) => s.total[status]), [0, 0, 2, 0, 0, 0]);
  assert.equal(s.buckets.reduce((sum: number, bucket: any) => sum + bucket.total, 0), 2);
});

test('a range without deliveries gives every bucket with zero counts and no latency', async () => {
  const from = new Date(Date.now() - 3 * 24 * 60 * MINUTE);
  const s = (await stats(a, { since: from.toISOString(), until: new Date(from.getTime() + 24 * 60 * MINUTE).toISOString(), bucket: 3600 })).data.deliveryStats;
  assert.equal(s.buckets.length, from.getTime() % (60 * MINUTE) === 0 ? 24 : 25);
  assert.ok(s.buckets.every((bucket: any) => bucket.total === 0 && bucket.latencyP50Ms === null));
  assert.equal(s.total.total, 0);
  assert.equal(s.total.latencyP95Ms, null);
});

test('READ keys may ask, PUBLISH keys may not', async () => {
  const read = await app.createKey(a.key, ['READ']);
  const publishOnly = await app.createKey(a.key, ['PUBLISH']);
  assert.equal((await stats(read.key, { since: since.toISOString() })).data.deliveryStats.total.total, 6);
  const refused = await stats(publishOnly.key, { since: since.toISOString() });
  assert.equal(errorCode(refused), 'FORBIDDEN');
  assert.equal(refused.data, null);
});

test('bad arguments are BAD_USER_INPUT naming the argument', async () => {
  const now = Date.now();
  const cases: [Record<string, unknown>, string][] = [
    [{ since: since.toISOString(), bucket: 0 }, 'bucket'],
    [{ since: since.toISOString(), bucket: 86_401 }, 'bucket'],
    [{ since: new Date(now - 31 * 24 * 60 * MINUTE).toISOString(), bucket: 86_400 }, 'since'],
    [{ since: since.toISOString(), until: new Date(since.getTime() - MINUTE).toISOString() }, 'until'],
    [{ since: since.toISOString(), until: since.toISOString() }, 'until'],
    [{ since: new Date(now + 60 * MINUTE).toISOString() }, 'since'],
    [{ since: new Date(now - 2 * 24 * 60 * MINUTE).toISOString(), bucket: 60 }, 'bucket'],
  ];
  for (const [variables, argument] of cases) {
    const result = await stats(a, variables);
    assert.equal(errorCode(result), 'BAD_USER_INPUT', JSON.stringify(variables));
    assert.equal(result.errors![0]!.extensions!.argument, argument, JSON.stringify(variables));
    assert.match(result.errors![0]!.message, new RegExp(`^${argument}: `));
  }
  // 1,440 buckets are allowed: a day of minutes.
  const dayStart = Math.floor(now / MINUTE) * MINUTE - 1439 * MINUTE;
  const day = await stats(a, { since: new Date(dayStart).toISOString(), until: new Date(dayStart + 1440 * MINUTE).toISOString(), bucket: 60 });
  assert.equal(day.errors, undefined);
  assert.equal(day.data.deliveryStats.buckets.length, 1440);
  assert.equal(day.data.deliveryStats.total.total, 6);
});
