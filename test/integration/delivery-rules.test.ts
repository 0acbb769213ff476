import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startTestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { DELIVERY, eventType, eventually, publish, PUBLISH_MANY, settled, subscription, tenant } from '../helpers/webhooks.js';

const app = await startTestApp({ label: 'delivery-rules', env: { HOOKGRAPH_DISABLE_AFTER: '1500ms', HOOKGRAPH_RETRY_SCHEDULE: '0,100ms,200ms,300ms' } });
const t = await tenant(app);
await eventType(t, 'invoice.paid');

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  after(() => r.close());
  return r;
}

async function delivery(id: string): Promise<any> {
  return (await app.gql(DELIVERY, { id }, t.key)).data.delivery;
}

async function subscriptionStatus(id: string): Promise<{ status: string; disabledReason: string | null }> {
  return (await app.gql('query($id: ID!) { webhookSubscription(id: $id) { status disabledReason } }', { id }, t.key)).data.webhookSubscription;
}

test('410 Gone: delivery FAILED at once, subscription DISABLED with the reason', async () => {
  const r = await receiver();
  r.replies(410);
  const sub = await subscription(t, { url: r.url, eventTypes: ['invoice.paid'] });
  const event = await publish(t, 'invoice.paid', { n: 1 });
  const [d] = await settled(t, event.id);
  assert.equal(d.status, 'FAILED');
  assert.equal(d.attemptCount, 1);
  const status = await subscriptionStatus(sub.id);
  assert.equal(status.status, 'DISABLED');
  assert.match(status.disabledReason!, /410/);
  // Later events are not delivered to it.
  const later = await publish(t, 'invoice.paid', { n: 2 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(r.requests.filter((q) => q.headers['webhook-id'] === later.id).length, 0);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('429 with Retry-After: the next attempt waits at least that long', async () => {
  const r = await receiver();
  r.replies({ status: 429, headers: { 'retry-after': '1' } }, 200);
  const sub = await subscription(t, { url: r.url, eventTypes: ['invoice.paid'] });
  const event = await publish(t, 'invoice.paid', { n: 3 });
  const [first, second] = await r.waitFor(2, 5000);
  assert.ok(second.receivedAt - first.receivedAt >= 950, `retried after ${second.receivedAt - first.receivedAt} ms`);
  const [d] = (await settled(t, event.id)).filter((x) => x.webhookSubscription.id === sub.id);
  assert.equal(d.status, 'SUCCEEDED');
  assert.deepEqual(d.attempts.map((a: any) => a.responseStatus), [429, 200]);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('a receiver slower than HOOKGRAPH_DELIVERY_TIMEOUT is a TIMEOUT attempt, then retried', async () => {
  const r = await receiver();
  r.replies({ status: 200, delayMs: 3000 }, 200);
  const sub = await subscription(t, { url: r.url, eventTypes: ['invoice.paid'] });
  const event = await publish(t, 'invoice.paid', { n: 4 });
  const [d] = (await settled(t, event.id, ['SUCCEEDED', 'FAILED'], 15_000)).filter((x) => x.webhookSubscription.id === sub.id);
  const full = await delivery(d.id);
  assert.equal(full.status, 'SUCCEEDED');
  assert.equal(full.attempts[0].errorKind, 'TIMEOUT');
  assert.ok(full.attempts[0].durationMs >= 1900 && full.attempts[0].durationMs < 3000, `took ${full.attempts[0].durationMs} ms`);
  assert.equal(full.attempts[1].responseStatus, 200);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('connection refused is retried, then FAILED; a subscription failing longer than HOOKGRAPH_DISABLE_AFTER becomes FAILING_DISABLED', async () => {
  const r = await receiver();
  const url = r.url;
  await r.close();
  const sub = await subscription(t, { url, eventTypes: ['invoice.paid'] });
  const event = await publish(t, 'invoice.paid', { n: 5 });
  const [d] = (await settled(t, event.id)).filter((x) => x.webhookSubscription.id === sub.id);
  const full = await delivery(d.id);
  assert.equal(full.status, 'FAILED');
  assert.deepEqual(full.attempts.map((a: any) => a.errorKind), ['CONNECTION', 'CONNECTION', 'CONNECTION', 'CONNECTION']);
  assert.equal((await subscriptionStatus(sub.id)).status, 'ENABLED', 'failing for less than the window');
  // Still failing once the window has passed: the next failure disables it, and what it had queued is cancelled.
  await new Promise((resolve) => setTimeout(resolve, 1600 - (Date.now() - new Date(full.attempts[0].startedAt).getTime())));
  const later = await publish(t, 'invoice.paid', { n: 6 });
  const status = await eventually(async () => {
    const s = await subscriptionStatus(sub.id);
    return s.status === 'FAILING_DISABLED' ? s : undefined;
  }, 5000, 'FAILING_DISABLED');
  assert.match(status.disabledReason!, /failed since/);
  const [cancelled] = (await settled(t, later.id)).filter((x) => x.webhookSubscription.id === sub.id);
  assert.equal(cancelled.status, 'CANCELLED');
  assert.equal(cancelled.attemptCount, 1);
});

test('during a secret rotation every delivery carries both signatures; each secret verifies', async () => {
  const r = await receiver();
  const sub = await subscription(t, { url: r.url, eventTypes: ['invoice.paid'] });
  const rotated = await app.gql(
    'mutation($id: ID!) { webhookSubscriptionRotateSecret(input: {id: $id, gracePeriodSeconds: 3600}) { secret userErrors { message } } }',
    { id: sub.id },
    t.key,
  );
  const newSecret = rotated.data.webhookSubscriptionRotateSecret.secret;
  assert.match(newSecret, /^whsec_/);
  await publish(t, 'invoice.paid', { n: 6 });
  const [request] = await r.waitFor(1);
  assert.equal(String(request.headers['webhook-signature']).split(' ').length, 2);
  for (const secret of [sub.secret, newSecret]) new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('ordered subscriptions deliver strictly in publish order, one at a time, a retry holding the rest back', async () => {
  const r = await receiver();
  let inFlight = 0;
  let maxInFlight = 0;
  r.respond(async (_req, index) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 15));
    inFlight--;
    return { status: index === 0 ? 500 : 200 };
  });
  const sub = await subscription(t, { url: r.url, eventTypes: ['invoice.paid'], ordered: true });
  const batch = await app.gql(PUBLISH_MANY, { input: { events: [1, 2, 3, 4, 5].map((n) => ({ eventType: 'invoice.paid', payload: { n } })) } }, t.key);
  assert.deepEqual(batch.data.eventsPublish.userErrors, []);
  await publish(t, 'invoice.paid', { n: 6 });
  await publish(t, 'invoice.paid', { n: 7 });
  const requests = await r.waitFor(8, 10_000);
  assert.deepEqual(requests.map((q) => JSON.parse(q.body).data.n), [1, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(maxInFlight, 1);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});

test('rateLimitPerSecond spreads deliveries out', async () => {
  const r = await receiver();
  const sub = await subscription(t, { url: r.url, eventTypes: ['invoice.paid'], rateLimitPerSecond: 5 });
  const started = Date.now();
  await app.gql(PUBLISH_MANY, { input: { events: Array.from({ length: 10 }, (_, n) => ({ eventType: 'invoice.paid', payload: { n } })) } }, t.key);
  const requests = await r.waitFor(10, 10_000);
  // 5 in the first second, the other 5 spread over the next: the last arrives after ~1 s.
  const firstSecond = requests.filter((q) => q.receivedAt - started < 900).length;
  assert.ok(firstSecond <= 6, `${firstSecond} requests in the first 900 ms`);
  assert.ok(requests[9].receivedAt - started >= 900, `all 10 within ${requests[9].receivedAt - started} ms`);
  await app.gql('mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) { userErrors { message } } }', { id: sub.id }, t.key);
});
