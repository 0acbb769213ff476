import { PgBoss } from 'pg-boss';
import { Agent } from 'undici';

export interface Progress {
  (line: string): void;
}

/**
 * (a) Raw pg-boss: insert `count` jobs, then drain them with the delivery
 * worker's settings (batch size, local concurrency, burst when full) and a
 * handler that does nothing. Jobs/s of the drain.
 */
export async function pgbossBaseline(url: string, count: number, batchSize: number, concurrency: number, progress: Progress): Promise<{ insertPerS: number; drainPerS: number }> {
  const boss = new PgBoss({ connectionString: url, schema: 'bench_pgboss', supervise: false, schedule: false, max: 10 });
  boss.on('error', () => undefined);
  await boss.start();
  const name = 'bench-raw';
  if (!(await boss.getQueue(name))) await boss.createQueue(name, { retryLimit: 1 });
  const insertStart = performance.now();
  for (let done = 0; done < count; done += 5000) {
    await boss.insert(name, Array.from({ length: Math.min(5000, count - done) }, (_, i) => ({ data: { v: 1, d: `${done + i}` } })));
  }
  const insertPerS = count / ((performance.now() - insertStart) / 1000);
  let drained = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const start = performance.now();
  await boss.work(name, { batchSize, localConcurrency: concurrency, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    drained += jobs.length;
    if (drained >= count) finish();
  });
  const ticker = setInterval(() => progress(`  pg-boss drain ${drained}/${count}`), 1000);
  await finished;
  const drainPerS = count / ((performance.now() - start) / 1000);
  clearInterval(ticker);
  await boss.stop({ graceful: false, close: true });
  return { insertPerS, drainPerS };
}

/** (b) Raw HTTP: keep-alive undici POSTs of a typical event body to the receiver, as many in flight as the worker allows. */
export async function httpBaseline(url: string, count: number, inFlight: number, progress: Progress): Promise<number> {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  const target = new URL(url);
  const body = JSON.stringify({ id: '01890000-0000-7000-8000-000000000000', type: 'order.created', timestamp: new Date().toISOString(), data: { orderId: 1, total: 12.5, currency: 'EUR' } });
  let sent = 0;
  let done = 0;
  const ticker = setInterval(() => progress(`  http ${done}/${count}`), 1000);
  const start = performance.now();
  const lane = async () => {
    while (sent < count) {
      sent++;
      const response = await agent.request({ origin: target.origin, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.body.text();
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const perS = count / ((performance.now() - start) / 1000);
  clearInterval(ticker);
  await agent.close();
  return perS;
}
