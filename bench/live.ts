import type { Pool } from 'pg';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { LivePubSub } from '../src/live/pubsub.js';
import type { Progress } from './baselines.js';
import type { GraphQL } from './e2e.js';

export interface LiveFanOut {
  clients: number;
  events: number;
  /** Status changes announced (one per delivery per status). */
  changes: number;
  /** Updates received, summed over all clients. */
  received: number;
  /** Updates each client should have received (changes), and how many clients got all of them. */
  complete: number;
  seconds: number;
  updatesPerS: number;
  /** eventPublish sent → a client sees the delivery's PENDING update (announce at commit, LISTEN, fan-out). */
  pending: { p50: number; p99: number };
  /** eventPublish sent → a client sees SUCCEEDED (through the worker process). */
  succeeded: { p50: number; p99: number };
}

const WATCH = 'subscription { deliveryUpdated { id status attemptCount } }';
const PUBLISH = 'mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { id } userErrors { field message } } }';

/**
 * (e) `clients` graphql-ws clients (in this process, next to the api) watch
 * every delivery of a tenant while `perSecond` single eventPublish calls flow
 * through the worker process; reports updates/s delivered to clients and
 * publish→update latency.
 */
export async function liveFanOut(
  options: { apiUrl: string; gql: GraphQL; key: string; pool: Pool; pubsub: LivePubSub; clients: number; perSecond: number; seconds: number },
  progress: Progress,
): Promise<LiveFanOut> {
  const { gql, key, pool, pubsub } = options;
  const sockets: Client[] = [];
  /** Per client: deliveryId → status → arrival time (ms, performance clock). */
  const arrivals: Map<string, Map<string, number>>[] = [];
  let received = 0;
  const baseline = pubsub.subscriberCount;
  for (let i = 0; i < options.clients; i++) {
    const seen = new Map<string, Map<string, number>>();
    arrivals.push(seen);
    const client = createClient({
      url: options.apiUrl.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    sockets.push(client);
    client.subscribe<{ deliveryUpdated: { id: string; status: string } }>(
      { query: WATCH },
      {
        next: ({ data }) => {
          if (!data) return;
          received++;
          const { id, status } = data.deliveryUpdated;
          let byStatus = seen.get(id);
          if (!byStatus) seen.set(id, (byStatus = new Map()));
          if (!byStatus.has(status)) byStatus.set(status, performance.now());
        },
        error: (err) => progress(`  live client ${i} error: ${JSON.stringify(err).slice(0, 200)}`),
        complete: () => undefined,
      },
    );
  }
  while (pubsub.subscriberCount < baseline + options.clients) await new Promise((r) => setTimeout(r, 20));
  progress(`  ${options.clients} live clients subscribed`);

  const publishedAt = new Map<string, number>();
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < options.seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * options.perSecond);
    while (sent < due) {
      sent++;
      const at = performance.now();
      inFlight.push(
        gql(PUBLISH, { input: { eventType: 'order.created', payload: { n: sent } } }, key).then((data) => {
          publishedAt.set(data.eventPublish.event.id, at);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(inFlight);
  const eventIds = [...publishedAt.keys()];
  // Done when every delivery is final and every client has seen as many updates as there were changes.
  const deadline = Date.now() + 60_000;
  let changes = 0;
  for (;;) {
    const { rows } = await pool.query<{ open: number }>(
      `select count(*) filter (where status not in ('SUCCEEDED', 'FAILED'))::int as open from delivery where event_id = any($1::uuid[])`,
      [eventIds],
    );
    changes = eventIds.length * 3; // PENDING, SENDING, SUCCEEDED (the receiver answers 200)
    if (rows[0]!.open === 0 && (received >= changes * options.clients || Date.now() > deadline)) break;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - start) / 1000;

  const { rows } = await pool.query<{ id: string; event_id: string }>('select id, event_id from delivery where event_id = any($1::uuid[])', [eventIds]);
  const eventOf = new Map(rows.map((r) => [r.id, r.event_id]));
  const pending: number[] = [];
  const succeeded: number[] = [];
  let complete = 0;
  for (const seen of arrivals) {
    let all = seen.size === rows.length;
    for (const [deliveryId, byStatus] of seen) {
      const published = publishedAt.get(eventOf.get(deliveryId) ?? '');
      if (published === undefined) continue;
      const p = byStatus.get('PENDING');
      const s = byStatus.get('SUCCEEDED');
      if (p !== undefined) pending.push(p - published);
      if (s !== undefined) succeeded.push(s - published);
      if (p === undefined || s === undefined) all = false;
    }
    if (all) complete++;
  }
  await Promise.all(sockets.map((s) => s.dispose()));
  return {
    clients: options.clients,
    events: eventIds.length,
    changes,
    received,
    complete,
    seconds,
    updatesPerS: received / seconds,
    pending: quantiles(pending),
    succeeded: quantiles(succeeded),
  };
}

function quantiles(values: number[]): { p50: number; p99: number } {
  const sorted = values.sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return { p50: at(0.5), p99: at(0.99) };
}
