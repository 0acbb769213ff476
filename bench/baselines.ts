import { randomUUID } from 'node:crypto';
import { PgBoss } from 'pg-boss';
import { Agent } from 'undici';
import { cpuSeconds, HAND_ROLLED_SENDER, postgresCpuSeconds, spawnNode } from './processes.js';

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

export interface HandRolledSender {
  deliveries: number;
  seconds: number;
  deliveriesPerS: number;
  duplicates: number;
  /** CPU seconds of the sender process and of PostgreSQL (NaN with DATABASE_URL) during the run. */
  senderCpu: number;
  postgresCpu: number;
}

/**
 * (f) The hand-rolled sender of `hand-rolled-sender.ts` against the same
 * PostgreSQL (schema `bench_sender`) and receiver as hookgraph's end to end
 * run, with as many deliveries: this process inserts one job per delivery,
 * 500 events × `subscriptions` jobs per insert, three inserts in flight (as
 * (c) publishes), while the sender process drains. Done when the receiver has
 * every POST and pg-boss has completed every job.
 */
export async function handRolledSenderBaseline(
  options: { databaseUrl: string; pgDir: string | undefined; receiverUrl: string; events: number; subscriptions: number },
  progress: Progress,
): Promise<HandRolledSender> {
  const { databaseUrl, receiverUrl, events, subscriptions } = options;
  const schema = 'bench_sender';
  const queue = 'webhooks';
  const sender = await spawnNode([HAND_ROLLED_SENDER], { DATABASE_URL: databaseUrl, SENDER_SCHEMA: schema, SENDER_QUEUE: queue }, (out) => out.includes('"ready"'));
  const boss = new PgBoss({ connectionString: databaseUrl, schema, supervise: false, schedule: false, max: 4 });
  boss.on('error', () => undefined);
  try {
    await boss.start();
    await fetch(`${receiverUrl}/reset`, { method: 'POST' });
    const expected = events * subscriptions;
    const received = async () => ((await (await fetch(`${receiverUrl}/stats?count`)).json()) as { count: number; duplicates: number });
    const completed = async () => Number((await boss.getDb().executeSql(`select count(*)::int as n from ${schema}.job where name = $1 and state = 'completed'`, [queue])).rows[0].n);
    // With DATABASE_URL the schema may hold an earlier run's jobs.
    const completedBefore = await completed();
    const cpuBefore = { sender: cpuSeconds(sender.child.pid!), postgres: postgresCpuSeconds(options.pgDir) };
    let inserted = 0;
    const ticker = setInterval(async () => progress(`  hand-rolled sender: inserted ${inserted}/${expected} jobs, received ${(await received()).count}/${expected}`), 1000);
    const start = performance.now();
    const batch = 500;
    let next = 0;
    const lane = async () => {
      while (next < events) {
        const from = next;
        next += batch;
        const jobs = [];
        for (let e = from; e < Math.min(from + batch, events); e++) {
          const body = JSON.stringify({ id: randomUUID(), type: 'order.created', timestamp: new Date().toISOString(), data: { orderId: e, total: 12.5, currency: 'EUR' } });
          for (let s = 0; s < subscriptions; s++) jobs.push({ data: { url: `${receiverUrl}/hook/sender/${s}`, body } });
        }
        await boss.insert(queue, jobs);
        inserted += jobs.length;
      }
    };
    await Promise.all(Array.from({ length: 3 }, lane));
    while ((await received()).count < expected) await new Promise((r) => setTimeout(r, 100));
    while ((await completed()) - completedBefore < expected) await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - start) / 1000;
    clearInterval(ticker);
    return {
      deliveries: expected,
      seconds,
      deliveriesPerS: expected / seconds,
      duplicates: (await received()).duplicates,
      senderCpu: cpuSeconds(sender.child.pid!) - cpuBefore.sender,
      postgresCpu: postgresCpuSeconds(options.pgDir) - cpuBefore.postgres,
    };
  } finally {
    await boss.stop({ graceful: false, close: true }).catch(() => undefined);
    await sender.stop();
  }
}
