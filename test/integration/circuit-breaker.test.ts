import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { wsClient, type Subscription } from '../helpers/graphql.js';
import { spawnHookgraph } from '../helpers/process.js';
import { startReceiver, type ReceivedRequest } from '../helpers/receiver.js';
import { eventType, eventually, publishMany, subscription, tenant, type Tenant } from '../helpers/webhooks.js';

/**
 * The circuit breaker against real receivers: a dead receiver opens the
 * circuit after HOOKGRAPH_CIRCUIT_FAILURES failed attempts; while it is open
 * the deliveries wait without using up their schedule and single probes test
 * the receiver at growing intervals (a failed probe does not use up its
 * delivery's schedule either); the first successful probe closes it and every
 * waiting delivery is sent at once. A small threshold and a short probe
 * interval keep it quick, and the lease (delivery timeout + 10 s) is long
 * enough that only the closing circuit can explain a quick delivery of the
 * waiting ones.
 */
const CIRCUIT_ENV = {
  HOOKGRAPH_CIRCUIT_FAILURES: '3',
  HOOKGRAPH_CIRCUIT_PROBE_BASE: '300ms',
  HOOKGRAPH_CIRCUIT_PROBE_MAX: '10s',
  // Four attempts: the ordered head opens the circuit on its third and then probes more often than that.
  HOOKGRAPH_RETRY_SCHEDULE: '0,100ms,100ms,100ms',
  HOOKGRAPH_DELIVERY_TIMEOUT: '10s',
};
/** The lease of a probe under CIRCUIT_ENV: deliveries that lost a probe would wait this long but for the closing circuit. */
const LEASE_MS = 25_000;

const app = await startTestApp({ label: 'circuit', env: CIRCUIT_ENV });

const SUBSCRIPTION = `query($id: ID!) { webhookSubscription(id: $id) { id status circuit { state openedAt nextProbeAt } } }`;
const UPDATED = `subscription($id: ID) { webhookSubscriptionUpdated(id: $id) { id status circuit { state openedAt nextProbeAt } } }`;
const DELIVERIES = `query($id: ID!) { webhookSubscription(id: $id) { id } deliveries(first: 100, filter: {webhookSubscriptionId: $id}) {
  nodes { id status attemptCount nextAttemptAt event { id } attempts { attemptNumber responseStatus } } } }`;

async function circuitOf(a: TestApp, t: Tenant, id: string): Promise<{ state: string; openedAt: string | null; nextProbeAt: string | null }> {
  const result = await a.gql(SUBSCRIPTION, { id }, t.key);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.webhookSubscription.circuit;
}

async function deliveriesOf(a: TestApp, t: Tenant, id: string): Promise<any[]> {
  const result = await a.gql(DELIVERIES, { id }, t.key);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.deliveries.nodes;
}

/** Waits until the subscription's `count` deliveries all SUCCEEDED; a timeout lists where each one is. */
async function allSucceeded(a: TestApp, t: Tenant, id: string, count: number, timeoutMs: number): Promise<any[]> {
  let last: any[] = [];
  try {
    return await eventually(async () => {
      last = await deliveriesOf(a, t, id);
      return last.length === count && last.every((d) => d.status === 'SUCCEEDED') ? last : undefined;
    }, timeoutMs, 'every delivery to succeed');
  } catch (error) {
    const where = last.filter((d) => d.status !== 'SUCCEEDED').map((d) => `${d.status}/${d.attemptCount}/${d.nextAttemptAt}`);
    throw new Error(`${(error as Error).message}; ${last.length - where.length} of ${count} succeeded, the rest: ${where.join(', ')} (now ${new Date().toISOString()})`);
  }
}

/** A graphql-ws client of `a` subscribed to one subscription's changes, registered before anything happens. */
async function watch(a: TestApp, t: Tenant, id: string): Promise<Subscription<any>> {
  const client = wsClient(a.url, t.key);
  after(() => client.dispose());
  await new Promise<void>((resolve, reject) => {
    client.client.on('connected', () => resolve());
    client.closed.then((e) => reject(new Error(`closed ${e.code} ${e.reason}`)));
  });
  const before = a.app.services!.live.pubsub.subscriberCount;
  const stream = client.subscribe(UPDATED, { id });
  await eventually(async () => a.app.services!.live.pubsub.subscriberCount > before, 5000, 'the live subscription to register');
  return stream;
}

/** A receiver that fails until `recover()`, remembering which requests it answered 2xx. */
async function deadReceiver(status: number, delayMs = 0) {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const ok = new Set<ReceivedRequest>();
  let healthy = false;
  receiver.respond((request) => {
    if (!healthy) return { status, delayMs, body: 'down' };
    ok.add(request);
    return { status: 200, body: 'ok' };
  });
  return {
    receiver,
    ok,
    recover: () => void (healthy = true),
    /** Failed requests received after the circuit opened (the attempts under way when it opened arrived before it). */
    probes: (openedAt: string) => receiver.requests.filter((r) => !ok.has(r) && r.receivedAt > Date.parse(openedAt) + 150),
  };
}

function assertGrowingGaps(probes: readonly ReceivedRequest[], what: string): void {
  const gaps = probes.slice(1).map((p, i) => p.receivedAt - probes[i].receivedAt);
  console.log(`circuit breaker (${what}): ${probes.length} failed probes, gaps ${gaps.join(', ')} ms`);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] > gaps[i - 1], `probe gaps grow: ${gaps.join(', ')} ms`);
}

/** No two probes were open at the receiver at once. */
function assertOneAtATime(probes: readonly ReceivedRequest[]): void {
  const sorted = [...probes].sort((a, b) => a.receivedAt - b.receivedAt);
  for (let i = 1; i < sorted.length; i++) {
    assert.ok(sorted[i - 1].closedAt !== undefined && sorted[i - 1].closedAt! <= sorted[i].receivedAt, `probe ${i} started while probe ${i - 1} was open`);
  }
}

test('a dead receiver opens the circuit; probes back off; the first good probe closes it and every waiting delivery goes out', { timeout: 90_000 }, async () => {
  const t = await tenant(app);
  await eventType(t, 'order.created');
  const dead = await deadReceiver(500);
  const { receiver } = dead;
  const { id } = await subscription(t, { url: receiver.url, eventTypes: ['order.created'] });
  assert.deepEqual(await circuitOf(app, t, id), { state: 'CLOSED', openedAt: null, nextProbeAt: null });
  const live = await watch(app, t, id);

  const published = await publishMany(t, 'order.created', 6);
  const open = await eventually(async () => {
    const c = await circuitOf(app, t, id);
    return c.state !== 'CLOSED' ? c : undefined;
  }, 20_000, 'the circuit to open');
  assert.ok(open.openedAt);

  // While open: deliveries wait RETRYING, and attempts grow only by the probes. Read between requests, when
  // every request the receiver saw is a recorded attempt.
  const quiet = () =>
    eventually(async () => {
      const list = await deliveriesOf(app, t, id);
      const attempts = list.reduce((sum, d) => sum + d.attemptCount, 0);
      return list.length === published.length && receiver.open === 0 && attempts === receiver.requests.length ? { list, attempts } : undefined;
    }, 20_000, 'every request to be a recorded attempt');
  const before = await eventually(async () => {
    const q = await quiet();
    return q.list.every((d) => d.status === 'RETRYING') ? q : undefined;
  }, 20_000, 'every delivery to wait');
  await eventually(async () => dead.probes(open.openedAt!).length >= 4 || undefined, 30_000, 'four probes');
  const { list: waiting, attempts } = await quiet();
  const attemptsWhileOpen = attempts - before.attempts;
  assert.ok(attemptsWhileOpen >= 1 && attemptsWhileOpen <= 5, `only probes went out while the circuit was open (${attemptsWhileOpen} attempts)`);
  for (const d of waiting) assert.ok(['RETRYING', 'SENDING'].includes(d.status), `delivery ${d.id} is ${d.status}`);
  const openNow = await circuitOf(app, t, id);
  assert.ok(['OPEN', 'HALF_OPEN'].includes(openNow.state));
  assert.equal(openNow.openedAt, open.openedAt, 'the circuit stayed open since it opened');
  if (openNow.state === 'OPEN') {
    assert.ok(openNow.nextProbeAt && Date.parse(openNow.nextProbeAt) > Date.parse(open.openedAt!));
    // Waiting deliveries show the next probe (or the lease of the one in flight) as their next attempt.
    for (const d of waiting.filter((w) => w.status === 'RETRYING')) assert.ok(Date.parse(d.nextAttemptAt) >= Date.parse(open.openedAt!));
  }

  // Recovery: the next probe succeeds, the circuit closes, and the waiting deliveries follow at once.
  dead.recover();
  await eventually(async () => (await circuitOf(app, t, id)).state === 'CLOSED' || undefined, 30_000, 'the circuit to close');
  const delivered = await allSucceeded(app, t, id, published.length, LEASE_MS / 2);
  assert.equal(delivered.length, published.length);
  const received = new Set([...dead.ok].map((r) => String(r.headers['webhook-id'])));
  for (const eventId of published) assert.ok(received.has(eventId), `event ${eventId} was delivered after the recovery`);

  const probes = dead.probes(open.openedAt!);
  assertGrowingGaps(probes, 'one process');
  assertOneAtATime(probes);

  // One live message per change: opened, then HALF_OPEN and back for each failed probe, then HALF_OPEN and CLOSED.
  const failedProbes = probes.length;
  const expected = 1 + 2 * failedProbes + 2;
  await eventually(async () => live.buffered.length >= expected || undefined, 10_000, `${expected} live messages`);
  await new Promise((r) => setTimeout(r, 300));
  const messages = live.buffered.map((m) => m.webhookSubscriptionUpdated);
  console.log(`circuit breaker live messages: ${messages.map((m) => m.circuit.state).join(', ')}`);
  assert.equal(messages.length, expected, `live messages: ${messages.map((m) => m.circuit.state).join(', ')}`);
  for (const m of messages) assert.equal(m.id, id);
  assert.notEqual(messages[0].circuit.state, 'CLOSED');
  assert.equal(messages.at(-1).circuit.state, 'CLOSED');
  assert.equal(messages.at(-1).status, 'ENABLED');
});

test('ordered: the head waits, probes are its attempts, and after the circuit closes everything arrives in publish order', { timeout: 90_000 }, async () => {
  const t = await tenant(app);
  await eventType(t, 'ledger.entry');
  const dead = await deadReceiver(503);
  const { receiver } = dead;
  const { id } = await subscription(t, { url: receiver.url, eventTypes: ['ledger.entry'], ordered: true });
  const published = await publishMany(t, 'ledger.entry', 5);
  const open = await eventually(async () => {
    const c = await circuitOf(app, t, id);
    return c.state !== 'CLOSED' ? c : undefined;
  }, 20_000, 'the circuit to open');
  await eventually(async () => dead.probes(open.openedAt!).length >= 3 || undefined, 30_000, 'three probes');
  // Only the head was ever attempted.
  assert.deepEqual(new Set(receiver.requests.map((r) => String(r.headers['webhook-id']))), new Set([published[0]]));
  assertGrowingGaps(dead.probes(open.openedAt!), 'ordered');

  dead.recover();
  await allSucceeded(app, t, id, published.length, LEASE_MS / 2);
  const order = receiver.requests.filter((r) => dead.ok.has(r)).map((r) => String(r.headers['webhook-id']));
  assert.deepEqual(order, published, 'delivered once each, in publish order');
  // The head made more attempts than its schedule has, and still succeeded: probing used none of it.
  const head = (await deliveriesOf(app, t, id)).find((d) => d.event.id === published[0]);
  assert.ok(head.attemptCount > 4, `the head made ${head.attemptCount} attempts`);
  assert.equal(head.attempts.at(-1).responseStatus, 200);
  assert.equal((await circuitOf(app, t, id)).state, 'CLOSED');
});

test('with two worker processes only one probe is out at a time', { timeout: 120_000 }, async () => {
  const api = await startTestApp({ label: 'circuit_workers', role: 'api', env: CIRCUIT_ENV });
  const workers = [spawnHookgraph('worker', { ...api.env, HOOKGRAPH_LOG_LEVEL: 'info' }), spawnHookgraph('worker', { ...api.env, HOOKGRAPH_LOG_LEVEL: 'info' })];
  after(() => Promise.all(workers.map((w) => w.stop())));
  await Promise.all(workers.map((w) => w.waitForLog('ready')));
  const t = await tenant(api);
  await eventType(t, 'order.created');
  // Slow failures: probes of two workers at one probe time would overlap at the receiver.
  const dead = await deadReceiver(500, 150);
  const { receiver } = dead;
  const { id } = await subscription(t, { url: receiver.url, eventTypes: ['order.created'] });
  const published = await publishMany(t, 'order.created', 40);
  const open = await eventually(async () => {
    const c = await circuitOf(api, t, id);
    return c.state !== 'CLOSED' ? c : undefined;
  }, 20_000, 'the circuit to open');
  await eventually(async () => dead.probes(open.openedAt!).length >= 4 || undefined, 40_000, 'four probes');

  dead.recover();
  await allSucceeded(api, t, id, published.length, LEASE_MS / 2);
  const probes = dead.probes(open.openedAt!);
  assert.ok(probes.length >= 4);
  assertOneAtATime(probes);
  assertGrowingGaps(probes, 'two workers');
  const seen = new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));
  for (const eventId of published) assert.ok(seen.has(eventId));
  assert.equal((await circuitOf(api, t, id)).state, 'CLOSED');
});

test('a probe answered 410 Gone disables the subscription at once; enabling it again starts with a closed circuit', { timeout: 60_000 }, async () => {
  const t = await tenant(app);
  await eventType(t, 'order.gone');
  const receiver = await startReceiver();
  after(() => receiver.close());
  let gone = false;
  receiver.respond(() => ({ status: gone ? 410 : 500 }));
  const { id } = await subscription(t, { url: receiver.url, eventTypes: ['order.gone'] });
  await publishMany(t, 'order.gone', 4);
  const open = await eventually(async () => {
    const c = await circuitOf(app, t, id);
    return c.state !== 'CLOSED' ? c : undefined;
  }, 20_000, 'the circuit to open');
  assert.ok(open.openedAt);
  gone = true;
  const disabled = await eventually(async () => {
    const result = await app.gql(`query($id: ID!) { webhookSubscription(id: $id) { status disabledReason } }`, { id }, t.key);
    const s = result.data.webhookSubscription;
    return s.status === 'DISABLED' ? s : undefined;
  }, 20_000, 'the subscription to be disabled');
  assert.match(disabled.disabledReason, /410 Gone/);
  const requests = receiver.requests.length;
  assert.equal(receiver.requests.filter((r) => r.receivedAt > Date.parse(open.openedAt!) + 150).length, 1, 'the 410 came from the first probe');

  const enabled = await app.gql(
    `mutation($id: ID!) { webhookSubscriptionUpdate(input: {id: $id, status: ENABLED}) { webhookSubscription { status circuit { state openedAt nextProbeAt } } userErrors { message } } }`,
    { id },
    t.key,
  );
  assert.deepEqual(enabled.data.webhookSubscriptionUpdate.userErrors, []);
  assert.deepEqual(enabled.data.webhookSubscriptionUpdate.webhookSubscription, { status: 'ENABLED', circuit: { state: 'CLOSED', openedAt: null, nextProbeAt: null } });
  assert.equal(receiver.requests.length, requests, 'nothing was sent while disabled');
});

test('a new url is a new receiver: the circuit closes at once and the waiting deliveries go there', { timeout: 60_000 }, async () => {
  const t = await tenant(app);
  await eventType(t, 'order.moved');
  const dead = await deadReceiver(500);
  const { id } = await subscription(t, { url: dead.receiver.url, eventTypes: ['order.moved'] });
  const live = await watch(app, t, id);
  const published = await publishMany(t, 'order.moved', 4);
  await eventually(async () => (await circuitOf(app, t, id)).state !== 'CLOSED' || undefined, 20_000, 'the circuit to open');
  const moved = await startReceiver();
  after(() => moved.close());
  const result = await app.gql(
    `mutation($id: ID!, $url: String!) { webhookSubscriptionUpdate(input: {id: $id, url: $url}) { webhookSubscription { circuit { state openedAt nextProbeAt } } userErrors { message } } }`,
    { id, url: moved.url },
    t.key,
  );
  assert.deepEqual(result.data.webhookSubscriptionUpdate.userErrors, []);
  assert.deepEqual(result.data.webhookSubscriptionUpdate.webhookSubscription.circuit, { state: 'CLOSED', openedAt: null, nextProbeAt: null });
  await allSucceeded(app, t, id, published.length, LEASE_MS / 2);
  assert.deepEqual(new Set(moved.requests.map((r) => String(r.headers['webhook-id']))), new Set(published));
  await eventually(async () => live.buffered.some((m) => m.webhookSubscriptionUpdated.circuit.state === 'CLOSED') || undefined, 5000, 'the closing to be announced');
});

test('once the circuit closes, the waiting deliveries still keep to rateLimitPerSecond', { timeout: 60_000 }, async () => {
  const t = await tenant(app);
  await eventType(t, 'order.limited');
  const dead = await deadReceiver(500);
  const { id } = await subscription(t, { url: dead.receiver.url, eventTypes: ['order.limited'], rateLimitPerSecond: 5 });
  const published = await publishMany(t, 'order.limited', 15);
  const open = await eventually(async () => {
    const c = await circuitOf(app, t, id);
    return c.state !== 'CLOSED' ? c : undefined;
  }, 20_000, 'the circuit to open');
  await eventually(async () => dead.probes(open.openedAt!).length >= 1 || undefined, 20_000, 'a probe');
  dead.recover();
  await allSucceeded(app, t, id, published.length, LEASE_MS / 2);
  const ok = dead.receiver.requests.filter((r) => dead.ok.has(r));
  assert.equal(new Set(ok.map((r) => String(r.headers['webhook-id']))).size, published.length);
  // 5 a second: the first 900 ms after the circuit closed hold at most 5 (and the probe).
  const first = ok[0].receivedAt;
  const early = ok.filter((r) => r.receivedAt - first < 900).length;
  assert.ok(early <= 6, `${early} deliveries in the first 900 ms after the circuit closed`);
});
