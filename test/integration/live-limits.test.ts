import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { wsClient, type WsClient } from '../helpers/graphql.js';

const app = await startTestApp({ label: 'live_limits', env: { HOOKGRAPH_MAX_SOCKETS_PER_KEY: '2' } });
const { adminKey } = await app.createTenant();
const live = app.app.services!.live;

const clients: WsClient[] = [];
after(() => Promise.all(clients.map((c) => c.dispose())));

function client(key: string): WsClient {
  const c = wsClient(app.url, key);
  clients.push(c);
  return c;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const WATCH = 'subscription { webhookSubscriptionUpdated { id status } }';

test('at most 50 operations at once on one socket; the 51st is refused with TOO_MANY_OPERATIONS, others keep running', async () => {
  const key = (await app.createKey(adminKey, ['READ'], 'operations')).key;
  const ws = client(key);
  const before = live.pubsub.subscriberCount;
  const open = Array.from({ length: 50 }, () => ws.subscribe(WATCH));
  await until(() => live.pubsub.subscriberCount === before + 50, '50 subscriptions');
  const refused = ws.subscribe(WATCH);
  const errors = (await refused.ended) as { message: string; extensions?: { code?: string } }[];
  assert.ok(Array.isArray(errors), 'the operation ends with errors');
  assert.equal(errors[0].extensions?.code, 'TOO_MANY_OPERATIONS');
  assert.match(errors[0].message, /At most 50 operations/);
  // Completing one makes room again; the socket was not closed.
  open[0].dispose();
  await until(() => live.pubsub.subscriberCount === before + 49, 'one subscription to end');
  ws.subscribe(WATCH);
  await until(() => live.pubsub.subscriberCount === before + 50, 'a new subscription');
  for (const s of open) s.dispose();
});

test('at most HOOKGRAPH_MAX_SOCKETS_PER_KEY sockets per key: the extra one is closed with 1008; other keys connect', async () => {
  const key = await app.createKey(adminKey, ['READ'], 'sockets');
  const first = client(key.key);
  const second = client(key.key);
  assert.deepEqual(await first.subscribe('{ viewer { root } }').next(), { viewer: { root: false } });
  assert.deepEqual(await second.subscribe('{ viewer { root } }').next(), { viewer: { root: false } });
  const third = client(key.key);
  assert.deepEqual(await third.closed, { code: 1008, reason: 'Too many live connections for this API key (at most 2)' });

  const otherKey = (await app.createKey(adminKey, ['READ'], 'other')).key;
  assert.deepEqual(await client(otherKey).subscribe('{ viewer { root } }').next(), { viewer: { root: false } });

  await first.dispose();
  await until(() => live.connections.openFor(key.id) === 1, 'the closed socket to be forgotten');
  assert.deepEqual(await client(key.key).subscribe('{ viewer { root } }').next(), { viewer: { root: false } });
});

test('a subscription replaying `since` is costed for its replay', async () => {
  const key = (await app.createKey(adminKey, ['READ'], 'replay')).key;
  const ws = client(key);
  const since = new Date().toISOString();
  const refused = await ws.subscribe('subscription($since: DateTime) { deliveryUpdated(since: $since) { id event { payload } } }', { since }).ended;
  assert.ok(Array.isArray(refused));
  assert.match((refused as { message: string }[])[0].message, /Event\.payload 256 KiB/);
  const before = live.pubsub.subscriberCount;
  const accepted = ws.subscribe('subscription($since: DateTime) { deliveryUpdated(since: $since) { id status } }', { since });
  await until(() => live.pubsub.subscriberCount === before + 1, 'the replaying subscription');
  accepted.dispose();
});

test('text PostgreSQL cannot store is refused when a subscription starts, inline or in variables', async () => {
  const c = client(adminKey);
  for (const [query, variables] of [
    ['subscription { eventPublished(eventTypes: ["order.\\u0000"]) { id } }', undefined],
    ['subscription($t: [String!]) { eventPublished(eventTypes: $t) { id } }', { t: ['order.\ud800'] }],
  ] as const) {
    const ended = (await c.subscribe(query, variables as Record<string, unknown> | undefined).ended) as { extensions?: { code?: string } }[] | undefined;
    assert.ok(Array.isArray(ended), `refused at subscribe: ${JSON.stringify(ended)}`);
    assert.equal(ended[0]?.extensions?.code, 'BAD_USER_INPUT');
  }
});
