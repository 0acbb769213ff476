import type { Pool } from 'pg';
import type { Progress } from './baselines.js';
import { publishEvents, resetReceiver, setUpTenant, type GraphQL } from './e2e.js';
import { HOOKGRAPH, sampleRss, spawnNode } from './processes.js';

export interface Backlog {
  deliveries: number;
  publishSeconds: number;
  /** From the worker's "ready" line until every delivery is SUCCEEDED. */
  drainSeconds: number;
  drainPerS: number;
  /** The worker's VmRSS, sampled every 250 ms, and its VmHWM at the end, MiB. */
  peakRssMb: number;
  hwmMb: number;
  duplicates: number;
}

/**
 * (h) A backlog: with no worker running (the caller stops them), publish
 * `deliveries` deliveries (events × `subscriptions`) to a tenant of their own,
 * then start one worker process and drain them, sampling its memory.
 */
export async function backlogDrain(
  options: { gql: GraphQL; rootKey: string; receiverUrl: string; pool: Pool; env: Record<string, string>; deliveries: number; subscriptions: number },
  progress: Progress,
): Promise<Backlog> {
  const { gql, pool, receiverUrl, subscriptions } = options;
  const events = Math.ceil(options.deliveries / subscriptions);
  const deliveries = events * subscriptions;
  const key = await setUpTenant(gql, options.rootKey, receiverUrl, subscriptions, 'backlog');
  const tenantId = (await gql('{ viewer { tenant { id } } }', {}, key)).viewer.tenant.id as string;
  await resetReceiver(receiverUrl);

  const publishStart = performance.now();
  let lastLog = 0;
  await publishEvents(gql, key, events, (published) => {
    if (Date.now() - lastLog < 2000) return;
    lastLog = Date.now();
    progress(`  backlog: published ${published}/${events} events (${published * subscriptions} deliveries)`);
  });
  const publishSeconds = (performance.now() - publishStart) / 1000;

  progress(`  backlog: ${deliveries} deliveries waiting; starting the worker …`);
  const worker = await spawnNode([...HOOKGRAPH, 'worker'], { ...options.env, HOOKGRAPH_LOG_LEVEL: 'info' }, (_out, err) => err.includes('"msg":"ready"'));
  const drainStart = performance.now();
  const rss = sampleRss(worker.child.pid!);
  try {
    const received = async () => ((await (await fetch(`${receiverUrl}/stats?count`)).json()) as { count: number; duplicates: number });
    for (let last = 0; ; ) {
      const { count } = await received();
      if (count >= deliveries) break;
      if (Date.now() - last > 2000) (last = Date.now()), progress(`  backlog: received ${count}/${deliveries}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every POST arrived; the last outcomes are recorded a moment later.
    const unfinished = `select exists(select 1 from delivery where tenant_id = $1 and status <> 'SUCCEEDED') as any`;
    while ((await pool.query<{ any: boolean }>(unfinished, [tenantId])).rows[0]!.any) await new Promise((r) => setTimeout(r, 100));
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const memory = rss.stop();
    return { deliveries, publishSeconds, drainSeconds, drainPerS: deliveries / drainSeconds, peakRssMb: memory.sampledPeakMb, hwmMb: memory.hwmMb, duplicates: (await received()).duplicates };
  } finally {
    rss.stop();
    await worker.stop();
  }
}
