import type { Pool } from 'pg';
import { Agent } from 'undici';
import type { Progress } from './baselines.js';

export interface GraphQL {
  (query: string, variables: Record<string, unknown>, key: string): Promise<any>;
}

/** A GraphQL client over a bounded keep-alive pool: excess requests queue here, as in a real producer. */
export function graphql(baseUrl: string): GraphQL {
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const url = new URL(`${baseUrl}/graphql`);
  return async (query, variables, key) => {
    const response = await agent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.body.json()) as { data?: any; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
}

const PUBLISH_MANY = 'mutation($input: EventsPublishInput!) { eventsPublish(input: $input) { events { id } userErrors { field message } } }';
const PUBLISH = 'mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { id } userErrors { field message } } }';

/** The JSON Schema of what (c) publishes, so a payload query can select its typed fields. */
export const ORDER_SCHEMA = {
  type: 'object',
  properties: { orderId: { type: 'integer' }, total: { type: 'number' }, currency: { type: 'string' } },
  required: ['orderId', 'total', 'currency'],
};
/** (c2)'s payload query: part of (c)'s payload, `currency` left out. */
export const SHAPED_QUERY = 'subscription { orderCreated { orderId total } }';

/**
 * A tenant with an `order.created` event type and `subscriptions` subscriptions
 * to `order.*`; `schema` gives the event type a JSON Schema, `payloadQuery`
 * shapes every subscription.
 */
export async function setUpTenant(
  gql: GraphQL,
  rootKey: string,
  receiverUrl: string,
  subscriptions: number,
  name: string,
  options: { schema?: object; payloadQuery?: string; orderingKey?: string } = {},
): Promise<string> {
  const created = await gql('mutation($name: String!) { tenantCreate(input: {name: $name}) { apiKeySecret } }', { name }, rootKey);
  const key = created.tenantCreate.apiKeySecret as string;
  const eventType = await gql(
    'mutation($input: EventTypeCreateInput!) { eventTypeCreate(input: $input) { userErrors { field message } } }',
    { input: { name: 'order.created', description: 'bench', schema: options.schema ?? null } },
    key,
  );
  if (eventType.eventTypeCreate.userErrors.length) throw new Error(JSON.stringify(eventType.eventTypeCreate.userErrors));
  for (let i = 0; i < subscriptions; i++) {
    const sub = await gql(
      'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { userErrors { field message } } }',
      {
        input: {
          url: `${receiverUrl}/hook/${name}/${i}`,
          eventTypes: ['order.*'],
          ...(options.payloadQuery ? { payloadQuery: options.payloadQuery } : {}),
          ...(options.orderingKey ? { orderingKey: options.orderingKey } : {}),
        },
      },
      key,
    );
    if (sub.webhookSubscriptionCreate.userErrors.length) throw new Error(JSON.stringify(sub.webhookSubscriptionCreate.userErrors));
  }
  return key;
}

/** Throws unless the receiver got some bodies and every sampled body's `data` has exactly `keys`: a phase must measure what it says. */
export function assertDataKeys(phase: string, samples: readonly string[], keys: readonly string[]): void {
  if (samples.length === 0) throw new Error(`${phase}: the receiver kept no bodies to check`);
  for (const body of samples) {
    const got = Object.keys((JSON.parse(body) as { data?: object }).data ?? {}).sort();
    if (got.join() !== [...keys].sort().join()) throw new Error(`${phase}: expected a body whose data has exactly ${keys.join(', ')}; got ${body}`);
  }
}

async function receiverStats(receiverUrl: string, latencies = true): Promise<{ count: number; duplicates: number; latencies: number[]; samples: string[] }> {
  return (await (await fetch(`${receiverUrl}/stats${latencies ? '' : '?count'}`)).json()) as { count: number; duplicates: number; latencies: number[]; samples: string[] };
}

export async function resetReceiver(receiverUrl: string): Promise<void> {
  await fetch(`${receiverUrl}/reset`, { method: 'POST' });
}

export interface EndToEnd {
  events: number;
  deliveries: number;
  publishSeconds: number;
  totalSeconds: number;
  publishPerS: number;
  deliveriesPerS: number;
  duplicates: number;
  /** The first few bodies the receiver got. */
  samples: string[];
}

/**
 * (c) Publishes `events` events through `eventsPublish` (batches of 500, a few
 * calls in parallel) to a tenant with `subscriptions` matching subscriptions,
 * while the worker delivers; done when every delivery is SUCCEEDED.
 */
export async function endToEnd(
  gql: GraphQL,
  key: string,
  pool: Pool,
  receiverUrl: string,
  events: number,
  subscriptions: number,
  progress: Progress,
  orderIds?: number,
): Promise<EndToEnd> {
  await resetReceiver(receiverUrl);
  const expected = events * subscriptions;
  const start = performance.now();
  let published = 0;
  let received = 0;
  const ticker = setInterval(async () => {
    received = (await receiverStats(receiverUrl, false)).count;
    progress(`  e2e published ${published}/${events} events, received ${received}/${expected} deliveries`);
  }, 1000);
  await publishEvents(gql, key, events, (n) => (published = n), orderIds);
  const publishSeconds = (performance.now() - start) / 1000;
  // Watch the receiver (cheap) until everything arrived; only then ask the database, so counting
  // 100k rows every 100 ms does not become part of what is measured.
  while ((await receiverStats(receiverUrl, false)).count < expected) await new Promise((r) => setTimeout(r, 100));
  for (;;) {
    const { rows } = await pool.query(`select count(*)::int as n from delivery where status = 'SUCCEEDED'`);
    if (rows[0].n >= expected) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const totalSeconds = (performance.now() - start) / 1000;
  clearInterval(ticker);
  const stats = await receiverStats(receiverUrl);
  return { events, deliveries: expected, publishSeconds, totalSeconds, publishPerS: events / publishSeconds, deliveriesPerS: expected / totalSeconds, duplicates: stats.duplicates, samples: stats.samples };
}

/**
 * Publishes `events` events through `eventsPublish`: batches of 500, three calls in flight, as a busy producer would.
 * `orderIds` makes `orderId` cycle through that many values (keys of an `orderingKey: "data.orderId"`); otherwise each event has its own.
 */
export async function publishEvents(gql: GraphQL, key: string, events: number, onProgress: (published: number) => void = () => undefined, orderIds?: number): Promise<void> {
  const batch = 500;
  let next = 0;
  let published = 0;
  const lane = async () => {
    while (next < events) {
      const from = next;
      next += batch;
      const size = Math.min(batch, events - from);
      const result = await gql(PUBLISH_MANY, { input: { events: Array.from({ length: size }, (_, i) => ({ eventType: 'order.created', payload: { orderId: orderIds ? (from + i) % orderIds : from + i, total: 12.5, currency: 'EUR' } })) } }, key);
      if (result.eventsPublish.userErrors.length) throw new Error(JSON.stringify(result.eventsPublish.userErrors));
      onProgress((published += size));
    }
  };
  await Promise.all(Array.from({ length: 3 }, lane));
}

export interface Latency {
  /** Median time for the publish call itself to answer, ms. */
  publishP50: number;
  /** The publish call's own p99: the part of publish→receive spent before the event was committed. */
  publishP99: number;
  offeredPerS: number;
  seconds: number;
  /** Events offered; `received` can fall short when the wait for stragglers ran out. */
  sent: number;
  received: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * (d) A steady offered load: every 20 ms one `eventsPublish` call with the
 * events due (≈10 at 500/s), or with `single` one `eventPublish` call per
 * event; publish→receive latency measured at the receiver.
 */
export async function latency(gql: GraphQL, key: string, receiverUrl: string, perSecond: number, seconds: number, progress: Progress, single = false, drainMs = 30_000): Promise<Latency> {
  await resetReceiver(receiverUrl);
  const tickMs = 20;
  const perTick = (perSecond * tickMs) / 1000;
  const inFlight: Promise<unknown>[] = [];
  const publishTimes: number[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * perSecond);
    const sentAt = Date.now();
    if (single) {
      while (sent < due) {
        sent++;
        inFlight.push(gql(PUBLISH, { input: { eventType: 'order.created', payload: { sentAt, n: sent } } }, key).then(() => publishTimes.push(Date.now() - sentAt)));
      }
    } else if (sent < due) {
      // What a producer with a steady stream does: every tick, one call with the events that came up.
      const events = Array.from({ length: due - sent }, (_, i) => ({ eventType: 'order.created', payload: { sentAt, n: sent + i + 1 } }));
      sent = due;
      inFlight.push(gql(PUBLISH_MANY, { input: { events } }, key).then(() => publishTimes.push(Date.now() - sentAt)));
    }
    if (sent % (perSecond * 2) < perTick) progress(`  latency: ${sent} events offered`);
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all(inFlight);
  const deadline = Date.now() + drainMs;
  let stats = await receiverStats(receiverUrl);
  while (stats.count < sent && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await receiverStats(receiverUrl, false);
  }
  stats = await receiverStats(receiverUrl);
  const sorted = stats.latencies.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  publishTimes.sort((a, b) => a - b);
  return { publishP50: publishTimes[Math.floor(publishTimes.length / 2)] ?? NaN, publishP99: publishTimes[Math.min(publishTimes.length - 1, Math.floor(publishTimes.length * 0.99))] ?? NaN, offeredPerS: perSecond, seconds, sent, received: stats.count, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}
