import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { circuitPolicy } from '../../src/delivery/circuit.js';
import type { LiveMessage } from '../../src/live/messages.js';
import { announce } from '../helpers/announce.js';
import { LISTENER_APPLICATION_NAME } from '../../src/live/listener.js';
import type { LiveSubscription } from '../../src/live/pubsub.js';
import * as webhookSubscriptions from '../../src/store/webhook-subscriptions.js';
import { startTestApp } from '../helpers/app.js';
import { wsClient } from '../helpers/graphql.js';
import { eventType, eventually, subscription, tenant } from '../helpers/webhooks.js';

const app = await startTestApp({ label: 'live_listener' });
const live = app.app.services!.live;

/** Terminates the api process's LISTEN connection; what commits until it reconnects is not heard live. */
async function killListener(client: pg.Client): Promise<void> {
  const killed = await client.query('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1 and datname = current_database()', [
    LISTENER_APPLICATION_NAME,
  ]);
  assert.equal(killed.rowCount, 1, 'exactly one LISTEN connection per api process');
}

async function withClient<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: app.db.url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** Next value of a live subscription, or a rejection after `ms`. */
async function next<T>(subscription: LiveSubscription<T>, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`nothing within ${ms}ms`)), ms)));
  try {
    const result = await Promise.race([subscription.next(), timeout]);
    assert.equal(result.done, false);
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}

async function nothingWithin<T>(subscription: LiveSubscription<T>, ms = 300): Promise<void> {
  const outcome = await Promise.race([subscription.next().then((r) => r.value), new Promise((r) => setTimeout(() => r('quiet'), ms))]);
  assert.equal(outcome, 'quiet', `expected silence, got ${JSON.stringify(outcome)}`);
}

function deliveryMessage(tenantId: string, status = 'SENDING'): Extract<LiveMessage, { kind: 'delivery' }> {
  return { kind: 'delivery', tenantId, id: randomUUID(), eventId: randomUUID(), webhookSubscriptionId: randomUUID(), status, attemptCount: 1 };
}

test('a committed announce reaches subscribers of that tenant, in order, and no one else', async () => {
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  const a = live.pubsub.subscribe('delivery', tenantA);
  const b = live.pubsub.subscribe('delivery', tenantB);
  const sent = [deliveryMessage(tenantA, 'SENDING'), deliveryMessage(tenantA, 'RETRYING'), deliveryMessage(tenantA, 'SUCCEEDED')];
  await withClient(async (client) => {
    await client.query('begin');
    await announce(client, sent.slice(0, 2));
    await announce(client, sent.slice(2));
    await client.query('commit');
  });
  for (const message of sent) assert.deepEqual(await next(a), message);
  await nothingWithin(b);
  await a.return();
  await b.return();
});

test('a rolled-back announce never leaves', async () => {
  const tenant = randomUUID();
  const sub = live.pubsub.subscribe('delivery', tenant);
  await withClient(async (client) => {
    await client.query('begin');
    await announce(client, [deliveryMessage(tenant)]);
    await client.query('rollback');
  });
  await nothingWithin(sub, 500);
  await sub.return();
});

test('a bulk announce larger than one NOTIFY arrives complete', async () => {
  const tenant = randomUUID();
  const sub = live.pubsub.subscribe('delivery', tenant);
  const sent = Array.from({ length: 500 }, () => deliveryMessage(tenant));
  await withClient((client) => announce(client, sent));
  for (const message of sent) assert.equal((await next(sub)).id, message.id);
  await sub.return();
});

test('after its connection is killed the listener reconnects, streams again and re-reads what it missed', async () => {
  const { tenantId } = await app.createTenant('resync');
  const events = live.pubsub.subscribe('event', tenantId);
  const before = live.listener.connects;
  const missedId = await withClient(async (client) => {
    await killListener(client);
    // Committed while nobody listens: the NOTIFY is lost, the row is not.
    const id = randomUUID();
    await client.query('begin');
    await client.query(`insert into event (id, tenant_id, event_type, body, occurred_at, created_at) values ($1, $2, 'order.created', '{}', now(), now())`, [id, tenantId]);
    await announce(client, [{ kind: 'event', tenantId, id, eventType: 'order.created' }]);
    await client.query('commit');
    return id;
  });
  const resynced = await next(events, 10_000);
  assert.equal(resynced.id, missedId);
  assert.equal(live.listener.connects, before + 1);
  assert.equal(live.listener.connected, true);

  // And live notifications flow again.
  const after = { kind: 'event' as const, tenantId, id: randomUUID(), eventType: 'order.updated' };
  await withClient((client) => announce(client, [after]));
  assert.deepEqual(await next(events), after);
  const listeners = await withClient((client) =>
    client.query('select count(*)::int as n from pg_stat_activity where application_name = $1 and datname = current_database()', [LISTENER_APPLICATION_NAME]),
  );
  assert.equal(listeners.rows[0].n, 1);
  await events.return();

  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  assert.match(metrics, /^hookgraph_live_listener_connected 1$/m);
  assert.match(metrics, /^hookgraph_live_listener_reconnects_total 1$/m);
});

test('a circuit that opens while the listener is down reaches webhookSubscriptionUpdated clients after the reconnect', async () => {
  const { db, config } = app.app.services!;
  const t = await tenant(app);
  await eventType(t, 'order.created');
  const { id } = await subscription(t, { url: 'http://127.0.0.1:9/hook', eventTypes: ['order.created'] });
  // Last changed long before the listener goes away (beyond the resync's margin for clock skew): the resync can find it only by its circuit's change.
  await withClient((c) => c.query(`update webhook_subscription set updated_at = now() - interval '1 hour' where id = $1`, [id]));
  const updatedAt = async () => (await t.app.gql('query($id: ID!) { webhookSubscription(id: $id) { updatedAt } }', { id }, t.key)).data.webhookSubscription.updatedAt;
  const updatedAtBefore = await updatedAt();
  const versionBefore = await webhookSubscriptions.version(db, t.tenantId);
  const connects = live.listener.connects;
  const client = wsClient(app.url, t.key);
  after(() => client.dispose());
  const before = live.pubsub.subscriberCount;
  const updates = client.subscribe<any>('subscription($id: ID) { webhookSubscriptionUpdated(id: $id) { id circuit { state } } }', { id });
  await eventually(async () => live.pubsub.subscriberCount > before, 5000, 'the live subscription to register');
  await withClient(killListener);
  // The listener has seen its connection go (it reconnects after its backoff, 100 ms or so).
  await eventually(async () => !live.listener.connected, 5000, 'the listener to notice');
  // Enough failures in one group commit to open the circuit, committed while nobody listens.
  const health = { succeeded: [], failed: [{ id, failures: config.circuitFailures }], gone: [], failedProbes: [] };
  const changes = await db.transaction((tx) => webhookSubscriptions.recordHealth(tx, health, { disableAfterMs: config.disableAfterMs, circuit: circuitPolicy(config) }));
  assert.deepEqual(changes.opened.map((s) => s.id), [id]);
  const update = await updates.next(10_000);
  assert.equal(update.webhookSubscriptionUpdated.id, id);
  assert.equal(update.webhookSubscriptionUpdated.circuit.state, 'OPEN');
  assert.equal(live.listener.connects, connects + 1);
  updates.dispose();
  // The circuit is not a change of the subscription: neither its updatedAt nor the fan-out version moves.
  assert.equal(await updatedAt(), updatedAtBefore);
  assert.equal(await webhookSubscriptions.version(db, t.tenantId), versionBefore);
  const stamped = await withClient((c) => c.query(`select circuit_changed_at > now() - interval '1 minute' as recent from webhook_subscription where id = $1`, [id]));
  assert.equal(stamped.rows[0].recent, true);
});
