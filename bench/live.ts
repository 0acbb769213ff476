import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import type { LivePubSub } from '../src/live/pubsub.js';
import type { Progress } from './baselines.js';
import type { GraphQL } from './e2e.js';
import { fileURLToPath } from 'node:url';
import { spawnNode } from './processes.js';

const LIVE_CLIENTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'live-clients.js');

export interface LiveFanOut {
  clients: number;
  events: number;
  /** Status changes announced: PENDING, SENDING, SUCCEEDED per delivery. */
  changes: number;
  /** Updates received, summed over all clients. */
  received: number;
  /** Clients that saw every change. */
  complete: number;
  seconds: number;
  updatesPerS: number;
  /** CPU seconds of the api process (this one) during the run. */
  apiCpuSeconds: number;
  /** eventPublish sent → a client sees the delivery's PENDING update (announce at commit, LISTEN, fan-out). */
  pending: { p50: number; p99: number };
  /** eventPublish sent → a client sees SUCCEEDED (through the worker process). */
  succeeded: { p50: number; p99: number };
}

const PUBLISH = 'mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { id } userErrors { field message } } }';

/**
 * (e) `clients` graphql-ws clients (in a process of their own) watch every
 * delivery of a tenant on the api while `perSecond` single eventPublish calls
 * flow through the worker process; reports updates/s delivered to clients and
 * publish→update latency (one machine clock, Date.now()).
 */
export async function liveFanOut(
  options: { apiUrl: string; gql: GraphQL; key: string; pool: Pool; pubsub: LivePubSub; clients: number; perSecond: number; seconds: number },
  progress: Progress,
): Promise<LiveFanOut> {
  const { gql, key, pool, pubsub } = options;
  const baseline = pubsub.subscriberCount;
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-live-')), 'arrivals.json');
  const watchers = await spawnNode([LIVE_CLIENTS], { LIVE_URL: options.apiUrl, LIVE_KEY: key, LIVE_CLIENTS: String(options.clients), LIVE_REPORT: report }, (out) => out.includes('"connected"'));
  try {
    while (pubsub.subscriberCount < baseline + options.clients) await new Promise((r) => setTimeout(r, 20));
    progress(`  ${options.clients} live clients subscribed`);
    const received = () => {
      const lines = watchers.stdout().trimEnd().split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const parsed = JSON.parse(lines[i]!) as { received?: number };
        if (parsed.received !== undefined) return parsed.received;
      }
      return 0;
    };

    const publishedAt = new Map<string, number>();
    const inFlight: Promise<void>[] = [];
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    let sent = 0;
    while (performance.now() - start < options.seconds * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * options.perSecond);
      while (sent < due) {
        sent++;
        const at = Date.now();
        inFlight.push(gql(PUBLISH, { input: { eventType: 'order.created', payload: { n: sent } } }, key).then((data) => void publishedAt.set(data.eventPublish.event.id, at)));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(inFlight);
    const eventIds = [...publishedAt.keys()];
    const changes = eventIds.length * 3;
    const deadline = Date.now() + 120_000;
    let lastLog = 0;
    while (received() < changes * options.clients && Date.now() < deadline) {
      if (Date.now() - lastLog > 2000) progress(`  live: ${received()}/${changes * options.clients} updates received`), (lastLog = Date.now());
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const total = received();

    watchers.child.kill('SIGUSR2');
    while (!watchers.stdout().includes('"reported"')) await new Promise((r) => setTimeout(r, 20));
    const arrivals = JSON.parse(fs.readFileSync(report, 'utf8')) as [string, number][][];

    const { rows } = await pool.query<{ id: string; event_id: string }>('select id, event_id from delivery where event_id = any($1::uuid[])', [eventIds]);
    const publishedOf = new Map(rows.map((r) => [r.id, publishedAt.get(r.event_id)!]));
    const pending: number[] = [];
    const succeeded: number[] = [];
    let complete = 0;
    for (const seen of arrivals) {
      let both = 0;
      for (const [k, at] of seen) {
        const [deliveryId, status] = k.split(' ');
        const published = publishedOf.get(deliveryId!);
        if (published === undefined) continue;
        if (status === 'PENDING') pending.push(at - published), both++;
        if (status === 'SUCCEEDED') succeeded.push(at - published), both++;
      }
      if (both === rows.length * 2) complete++;
    }
    return {
      clients: options.clients,
      events: eventIds.length,
      changes,
      received: total,
      complete,
      seconds,
      updatesPerS: total / seconds,
      apiCpuSeconds: (cpu.user + cpu.system) / 1e6,
      pending: quantiles(pending),
      succeeded: quantiles(succeeded),
    };
  } finally {
    await watchers.stop();
    fs.rmSync(path.dirname(report), { recursive: true, force: true });
  }
}

function quantiles(values: number[]): { p50: number; p99: number } {
  const sorted = values.sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return { p50: at(0.5), p99: at(0.99) };
}
