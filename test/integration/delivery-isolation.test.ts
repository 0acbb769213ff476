import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pgBossChannel } from '../../src/delivery/job-wakeups.js';
import { PGBOSS_SCHEMA } from '../../src/delivery/queue.js';
import { startTestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { eventType, eventually, publish, PUBLISH_MANY, settled, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

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

async function publishMany(t: Tenant, type: string, count: number): Promise<string[]> {
  const result = await app.gql(PUBLISH_MANY, { input: { events: Array.from({ length: count }, (_, n) => ({ eventType: type, payload: { n } })) } }, t.key);
  assert.deepEqual(result.data.eventsPublish.userErrors, []);
  return result.data.eventsPublish.events.map((e: { id: string }) => e.id);
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
