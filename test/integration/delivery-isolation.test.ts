import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pgBossChannel } from '../../src/store/queue.js';
import { PGBOSS_SCHEMA } from '../../src/store/queue.js';
import { startTestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { eventType, eventually, publish, publishMany, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

/*
 * One subscription's slow or hanging receiver must not hold up another's
 * deliveries (DESIGN invariant 9). Asserted by order of events seen at the
 * receivers, never by durations. A batch size of 4 makes a publish of 16
 * events land on every shard queue (runs of 4 per shard), so a worker that
 * ran each fetched batch in lock-step would have every fetch loop stuck on
 * the hanging receiver.
 */
const app = await startTestApp({
  label: 'delivery-isolation',
  env: { HOOKGRAPH_DELIVERY_TIMEOUT: '4s', HOOKGRAPH_WORKER_BATCH_SIZE: '4', HOOKGRAPH_RETRY_SCHEDULE: '0,100ms,200ms' },
});

/** A receiver that holds every request open until `release()` (or until the worker's timeout gives up on it). */
async function holdingReceiver(): Promise<Receiver & { release(): void }> {
  const receiver = await startReceiver();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  receiver.respond(async () => {
    await gate;
    return { status: 200 };
  });
  return Object.assign(receiver, { release });
}

const eventIds = (receiver: Receiver) => new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));

test("a hanging receiver does not delay another subscription's delivery", async () => {
  const t = await tenant(app, 'Isolation tenant');
  await eventType(t, 'slow.thing');
  await eventType(t, 'fast.thing');
  const hanging = await holdingReceiver();
  const normal = await startReceiver();
  try {
    await subscription(t, { url: hanging.url, eventTypes: ['slow.thing'] });
    await subscription(t, { url: normal.url, eventTypes: ['fast.thing'] });

    await publishMany(t, 'slow.thing', 16);
    await hanging.waitFor(16, 30_000);
    let hangingOpenOnArrival = -1;
    normal.respond(() => {
      hangingOpenOnArrival = hanging.open;
      return { status: 200 };
    });
    const fast = await publish(t, 'fast.thing', { n: 1 });
    await normal.waitFor(1, 30_000);
    assert.equal(hangingOpenOnArrival, 16, 'the normal delivery arrived while every hanging attempt was still open');
    const [delivery] = await settled(t, fast.id, ['SUCCEEDED'], 30_000);
    assert.equal(delivery.status, 'SUCCEEDED');
    assert.ok(
      hanging.requests.every((r) => r.closedAt === undefined),
      'the normal delivery was SUCCEEDED before any hanging attempt ended',
    );
  } finally {
    hanging.release();
    await hanging.close();
    await normal.close();
  }
});

test('subscriptions sharing a receiver host: hanging ones do not hold up another on the same host', async () => {
  const t = await tenant(app, 'Shared host tenant');
  await eventType(t, 'stalled.call');
  await eventType(t, 'quick.call');
  const host = await startReceiver();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let stalledOpenOnArrival = -1;
  host.respond(async (request) => {
    if (request.path.includes('stalled')) await gate;
    else stalledOpenOnArrival = host.open - 1;
    return { status: 200 };
  });
  try {
    // Three subscriptions of 24 hanging requests each: more than the 64 connections per origin the worker once had.
    for (const n of [1, 2, 3]) await subscription(t, { url: `${host.url}?stalled=${n}`, eventTypes: ['stalled.call'] });
    await subscription(t, { url: `${host.url}?quick`, eventTypes: ['quick.call'] });
    await publishMany(t, 'stalled.call', 24);
    await host.waitFor(72, 30_000);
    const quick = await publish(t, 'quick.call', { n: 1 });
    const [delivery] = await settled(t, quick.id, ['SUCCEEDED'], 30_000);
    assert.equal(delivery.status, 'SUCCEEDED');
    assert.equal(stalledOpenOnArrival, 72, 'the quick delivery arrived while all 72 hanging requests to the same host were open');
  } finally {
    release();
    await host.close();
  }
});

test('a subscription at its maxInFlight leaves others flowing, and never runs more than that at once', async () => {
  const t = await tenant(app, 'Cap tenant');
  await eventType(t, 'capped.thing');
  await eventType(t, 'other.thing');
  const capped = await holdingReceiver();
  const other = await startReceiver();
  try {
    const created = await app.gql(
      'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id maxInFlight } userErrors { field message } } }',
      { input: { url: capped.url, eventTypes: ['capped.thing'], maxInFlight: 1 } },
      t.key,
    );
    assert.deepEqual(created.data.webhookSubscriptionCreate.userErrors, []);
    assert.equal(created.data.webhookSubscriptionCreate.webhookSubscription.maxInFlight, 1);
    await subscription(t, { url: other.url, eventTypes: ['other.thing'] });

    const cappedEvents = await publishMany(t, 'capped.thing', 6);
    await capped.waitFor(1, 30_000);
    const otherEvents = await publishMany(t, 'other.thing', 12);
    await eventually(async () => otherEvents.every((id) => eventIds(other).has(id)), 30_000, "the other subscription's deliveries");
    assert.equal(capped.requests.length, 1, 'the capped subscription got no second request while its first was held');
    assert.equal(capped.open, 1, 'its first request was still held when all the others had arrived');

    capped.release();
    await eventually(async () => cappedEvents.every((id) => eventIds(capped).has(id)), 60_000, "the capped subscription's deliveries after the release");
    assert.equal(capped.mostOpen, 1, 'never more than maxInFlight requests at once');
    for (const id of cappedEvents) await settled(t, id, ['SUCCEEDED'], 30_000);
  } finally {
    capped.release();
    await capped.close();
    await other.close();
  }
});

test('jobs held for a busy subscription longer than the hold limit are deferred back to the queue, not left to expire', async () => {
  const t = await tenant(app, 'Hold tenant');
  await eventType(t, 'held.thing');
  const capped = await holdingReceiver();
  try {
    const sub = await subscription(t, { url: capped.url, eventTypes: ['held.thing'], maxInFlight: 1 });
    const events = await publishMany(t, 'held.thing', 4);
    await capped.waitFor(1, 30_000);
    // The other three were fetched with the first (one shard, a batch of 4) and are held; past the hold limit
    // they go back to the queue as deferred jobs (deferral count 1) instead of running into their expiry.
    await eventually(async () => {
      const { rows } = await app.app.pool.query(`select count(*)::int as n from pgboss.job where group_id = $1 and (data->>'r')::int >= 1`, [sub.id]);
      return rows[0].n === 3;
    }, 30_000, 'the held jobs to be deferred');
    capped.release();
    await eventually(async () => events.every((id) => eventIds(capped).has(id)), 60_000, 'every delivery after the release');
    for (const id of events) await settled(t, id, ['SUCCEEDED'], 30_000);
    const sent = new Map<string, number>();
    for (const r of capped.requests) sent.set(String(r.headers['webhook-id']), (sent.get(String(r.headers['webhook-id'])) ?? 0) + 1);
    // The request held at the receiver may have timed out and been retried; the held jobs were not sent twice.
    const first = String(capped.requests[0].headers['webhook-id']);
    assert.deepEqual(events.filter((id) => id !== first).map((id) => sent.get(id)), [1, 1, 1]);
    assert.equal(capped.mostOpen, 1);
  } finally {
    capped.release();
    await capped.close();
  }
});

test('an ordered subscription whose receiver hangs does not hold up another ordered subscription', async () => {
  const t = await tenant(app, 'Ordered isolation tenant');
  await eventType(t, 'stuck.step');
  await eventType(t, 'moving.step');
  const hanging = await holdingReceiver();
  const normal = await startReceiver();
  try {
    await subscription(t, { url: hanging.url, eventTypes: ['stuck.step'], ordered: true });
    await subscription(t, { url: normal.url, eventTypes: ['moving.step'], ordered: true });
    await publish(t, 'stuck.step', { n: 0 });
    await hanging.waitFor(1, 30_000);
    const moving = await publishMany(t, 'moving.step', 5);
    await normal.waitFor(5, 30_000);
    assert.deepEqual(
      normal.requests.map((r) => JSON.parse(r.body).data.n),
      [0, 1, 2, 3, 4],
      'in publish order',
    );
    assert.equal(hanging.open, 1, "the other subscription's deliveries all arrived while the hanging attempt was open");
    for (const id of moving) await settled(t, id, ['SUCCEEDED'], 30_000);
  } finally {
    hanging.release();
    await hanging.close();
    await normal.close();
  }
});

test('maxInFlight is validated, read back, and cleared with null', async () => {
  const t = await tenant(app, 'Validation tenant');
  const create = 'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id maxInFlight } userErrors { field code message } } }';
  const update = 'mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { webhookSubscription { id maxInFlight } userErrors { field code message } } }';
  for (const bad of [0, 1001, -3]) {
    const result = await app.gql(create, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'], maxInFlight: bad } }, t.key);
    assert.equal(result.data.webhookSubscriptionCreate.webhookSubscription, null);
    assert.deepEqual(result.data.webhookSubscriptionCreate.userErrors.map((e: { field: string[] }) => e.field), [['input', 'maxInFlight']]);
    assert.match(result.data.webhookSubscriptionCreate.userErrors[0].message, /maxInFlight must be between 1 and 1000/);
  }
  const made = await app.gql(create, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'], maxInFlight: 1000 } }, t.key);
  const { id, maxInFlight } = made.data.webhookSubscriptionCreate.webhookSubscription;
  assert.equal(maxInFlight, 1000);
  const wrong = await app.gql(update, { input: { id, maxInFlight: 5000 } }, t.key);
  assert.deepEqual(wrong.data.webhookSubscriptionUpdate.userErrors.map((e: { field: string[] }) => e.field), [['input', 'maxInFlight']]);
  const lowered = await app.gql(update, { input: { id, maxInFlight: 3 } }, t.key);
  assert.equal(lowered.data.webhookSubscriptionUpdate.webhookSubscription.maxInFlight, 3);
  const untouched = await app.gql(update, { input: { id, description: 'still 3' } }, t.key);
  assert.equal(untouched.data.webhookSubscriptionUpdate.webhookSubscription.maxInFlight, 3);
  const cleared = await app.gql(update, { input: { id, maxInFlight: null } }, t.key);
  assert.equal(cleared.data.webhookSubscriptionUpdate.webhookSubscription.maxInFlight, null);
});

test("the worker listens on pg-boss's own NOTIFY channel", async () => {
  // pg-boss computes the channel in SQL (plans.notifyChannelSql); the worker computes it in JS.
  const { rows } = await app.app.pool.query(`select 'pgboss_' || left(encode(sha224($1::text::bytea), 'hex'), 24) as channel`, [PGBOSS_SCHEMA]);
  assert.equal(pgBossChannel(PGBOSS_SCHEMA), rows[0].channel);
});
