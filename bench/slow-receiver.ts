import type { Pool } from 'pg';
import type { Progress } from './baselines.js';
import { latency, setUpTenant, type GraphQL, type Latency } from './e2e.js';
import { HANGING_RECEIVER, HOOKGRAPH, spawnNode } from './processes.js';

export interface SlowReceiver {
  /** HOOKGRAPH_DELIVERY_TIMEOUT of the worker during the phase. */
  timeout: string;
  /** Tenant B: steady load to the normal receiver, publish call start → receiver arrival. */
  steady: Latency;
  /** Tenant A: events published into the hanging receiver. */
  hanging: {
    perSecond: number;
    published: number;
    /** Requests that reached the hanging receiver (first attempts and retries). */
    attemptsReceived: number;
    /** Most requests open at the hanging receiver at once. */
    peakOpen: number;
    /** Most of A's deliveries SENDING at once (claimed by the worker, outcome not yet recorded), sampled every 250 ms. */
    peakSending: number;
  };
}

const PUBLISH = 'mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { id } userErrors { field message } } }';

/**
 * (g) Tenant A has one subscription whose receiver never answers; tenant B
 * one subscription to the normal receiver. B publishes `steadyPerS` events/s
 * (one eventsPublish every 20 ms, as (d)) while A publishes `hangingPerS`
 * events/s (eventPublish), both for `seconds`; one worker process started for
 * this phase with HOOKGRAPH_DELIVERY_TIMEOUT=`timeout`. The caller stops the
 * other workers first, so this one does all the work. Afterwards A's
 * subscription is disabled (its retries are cancelled, not sent) and the
 * hanging receiver stops.
 */
export async function slowReceiver(
  options: { gql: GraphQL; rootKey: string; receiverUrl: string; pool: Pool; env: Record<string, string>; steadyPerS: number; hangingPerS: number; seconds: number; timeout: string; timeoutMs: number },
  progress: Progress,
): Promise<SlowReceiver> {
  const { gql, pool } = options;
  const hanging = await spawnNode([HANGING_RECEIVER], {}, (out) => out.includes('"port"'));
  const hangingUrl = `http://127.0.0.1:${(JSON.parse(hanging.stdout().split('\n')[0]) as { port: number }).port}`;
  const worker = await spawnNode([...HOOKGRAPH, 'worker'], { ...options.env, HOOKGRAPH_DELIVERY_TIMEOUT: options.timeout, HOOKGRAPH_LOG_LEVEL: 'info' }, (_out, err) => err.includes('"msg":"ready"'));
  let sampler: NodeJS.Timeout | undefined;
  try {
    const steadyKey = await setUpTenant(gql, options.rootKey, options.receiverUrl, 1, 'steady');
    const hangingKey = await setUpTenant(gql, options.rootKey, hangingUrl, 1, 'hanging');
    const hangingSubscription = (await gql('{ webhookSubscriptions { nodes { id } } }', {}, hangingKey)).webhookSubscriptions.nodes[0].id as string;

    let peakSending = 0;
    let sampling = false;
    sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      pool
        .query<{ n: number }>(`select count(*)::int as n from delivery where webhook_subscription_id = $1 and status = 'SENDING'`, [hangingSubscription])
        .then(({ rows }) => void (peakSending = Math.max(peakSending, rows[0]!.n)), () => undefined)
        .finally(() => (sampling = false));
    }, 250);

    const publishHanging = async () => {
      const inFlight: Promise<unknown>[] = [];
      const start = performance.now();
      let sent = 0;
      while (performance.now() - start < options.seconds * 1000) {
        // The first event at once, then one every 1/hangingPerS s.
        const due = Math.floor(((performance.now() - start) / 1000) * options.hangingPerS) + 1;
        while (sent < due) {
          sent++;
          inFlight.push(gql(PUBLISH, { input: { eventType: 'order.created', payload: { sentAt: Date.now(), n: sent } } }, hangingKey));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.all(inFlight);
      return sent;
    };
    // B's stragglers may wait behind A's timeouts: give them a few timeouts before giving up on them.
    const [steady, published] = await Promise.all([latency(gql, steadyKey, options.receiverUrl, options.steadyPerS, options.seconds, progress, false, 3 * options.timeoutMs + 10_000), publishHanging()]);
    clearInterval(sampler);
    const stats = (await (await fetch(`${hangingUrl}/stats`)).json()) as { received: number; open: number; peakOpen: number };

    const disabled = await gql(
      'mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { userErrors { message } } }',
      { input: { id: hangingSubscription, status: 'DISABLED' } },
      hangingKey,
    );
    if (disabled.webhookSubscriptionUpdate.userErrors.length) throw new Error(JSON.stringify(disabled.webhookSubscriptionUpdate.userErrors));
    return {
      timeout: options.timeout,
      steady,
      hanging: { perSecond: options.hangingPerS, published, attemptsReceived: stats.received, peakOpen: stats.peakOpen, peakSending },
    };
  } finally {
    clearInterval(sampler);
    // The hanging receiver first: its requests end at once, so the worker's batches finish and it stops promptly.
    await hanging.stop();
    await worker.stop();
  }
}
