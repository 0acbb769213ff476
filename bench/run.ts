import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { createLogger, silentLogger } from '../src/log.js';
import { backlogDrain } from './backlog.js';
import { handRolledSenderBaseline, httpBaseline, pgbossBaseline } from './baselines.js';
import { assertDataKeys, endToEnd, graphql, latency, ORDER_SCHEMA, setUpTenant, SHAPED_QUERY } from './e2e.js';
import { liveFanOut } from './live.js';
import { COLLECTOR, cpuSeconds, HOOKGRAPH, peakRssMb, postgresCpuSeconds, RECEIVER, spawnNode } from './processes.js';
import { summariseProfiles } from './profile-summary.js';
import { slowReceiver } from './slow-receiver.js';
import { walBreakdown } from './wal.js';

/**
 * `npm run bench [-- --quick] [-- --profile] [-- --wal-detail] [-- --v8-heap-defaults] [-- --tracing] [-- --backlog[=N]]`: hookgraph's
 * throughput and latency on this machine, next to the raw pg-boss and raw
 * HTTP figures it is built from and a hand-rolled pg-boss webhook sender.
 * Not a test: it measures, and checks only that a phase sent what it says.
 */
const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
/** Skips (d), e.g. to profile the bulk path alone. */
const noLatency = process.argv.includes('--no-latency');
/** (d) with one eventPublish call per event instead of an eventsPublish call per 20 ms tick. */
const singlePublish = process.argv.includes('--single-publish');
const size = quick
  ? { jobs: 20_000, posts: 20_000, subscriptions: 10, events: 2_000, latencySeconds: 5 }
  : { jobs: 50_000, posts: 50_000, subscriptions: 10, events: 10_000, latencySeconds: 20 };
/** `--events=N` overrides the events of (c), e.g. a longer run for steadier CPU figures. */
const eventsArg = process.argv.find((a) => a.startsWith('--events='));
if (eventsArg) size.events = Number(eventsArg.slice(9));
/** Offered load of (d), events/s; `--rate=N` to change it. */
const LATENCY_RATE = Number(process.argv.find((a) => a.startsWith('--rate='))?.slice(7) ?? 500);
/** (e) graphql-ws clients watching every delivery while events flow; `--no-live` skips it. */
const noLive = process.argv.includes('--no-live');
const LIVE = { clients: 200, perSecond: 20 };
/** After (c), where its WAL went, per table and index (`--wal-detail`; reads the WAL back, slow). */
const walDetail = process.argv.includes('--wal-detail');
/** Runs (c) a second time, last, with OpenTelemetry tracing on in the api and the worker, exporting to a local collector. */
const tracing = process.argv.includes('--tracing');
/** (c2) (c) again right after it with every subscription shaped by a payload query; `--no-shaped` skips it. */
const noShaped = process.argv.includes('--no-shaped');
/**
 * (c3) (c) again with every subscription ordered by `orderingKey: "data.orderId"`, the events cycling
 * through KEYED_ORDER_IDS order ids (that many keys per subscription); `--no-keyed` skips it.
 */
const noKeyed = process.argv.includes('--no-keyed');
const KEYED_ORDER_IDS = 1_000;
/** (f) the hand-rolled pg-boss sender with (c)'s deliveries; `--no-baseline-sender` skips it. */
const noBaselineSender = process.argv.includes('--no-baseline-sender');
/**
 * (g) one tenant's receiver hangs while another publishes steadily; `--no-slow` skips it,
 * `--slow-rate=N` sets the hanging tenant's events/s.
 */
const noSlow = process.argv.includes('--no-slow');
const SLOW = {
  steadyPerS: 500,
  hangingPerS: Number(process.argv.find((a) => a.startsWith('--slow-rate='))?.slice(12) ?? 1),
  seconds: quick ? 5 : 10,
  timeout: '10s',
  timeoutMs: 10_000,
};
/** (h) `--backlog[=N]`: N deliveries (default 1,000,000) published with no worker running, then drained by one; only with the flag. */
const backlogArg = process.argv.find((a) => a === '--backlog' || a.startsWith('--backlog='));
const BACKLOG = backlogArg ? (backlogArg === '--backlog' ? 1_000_000 : Number(backlogArg.slice(10))) : 0;

const usageError = (message: string) => (process.stderr.write(`bench: ${message}\n`), process.exit(2));
if (!(SLOW.hangingPerS > 0)) usageError(`--slow-rate must be a positive number of events/s, not "${process.argv.find((a) => a.startsWith('--slow-rate='))?.slice(12)}"`);
if (backlogArg && !(Number.isInteger(BACKLOG) && BACKLOG > 0)) usageError(`--backlog must be a positive whole number of deliveries, not "${backlogArg.slice(10)}"`);

const progress = (line: string) => process.stderr.write(`${line}\n`);
const cleanup: (() => Promise<unknown>)[] = [];
const started = Date.now();

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-bench-'));
  cleanup.push(async () => fs.rmSync(tmp, { recursive: true, force: true }));
  let databaseUrl = process.env.DATABASE_URL;
  /** Our own PostgreSQL's data dir, to count its CPU (unknown with DATABASE_URL). */
  let pgDir: string | undefined;
  if (!databaseUrl) {
    pgDir = path.join(tmp, 'pg');
    progress('starting embedded PostgreSQL …');
    const postgres = new EmbeddedPostgres({ dir: pgDir, ephemeral: true, log: createLogger('warn') });
    await postgres.start();
    cleanup.push(() => postgres.stop());
    databaseUrl = postgres.url;
  }
  const rootKey = 'hgroot_bench_' + randomBytes(16).toString('hex');
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    HOOKGRAPH_SECRET_KEY: randomBytes(32).toString('hex'),
    HOOKGRAPH_ROOT_KEY: rootKey,
    HOOKGRAPH_DATA_DIR: tmp,
    HOOKGRAPH_ALLOW_TARGETS: '127.0.0.0/8',
    HOOKGRAPH_LOG_LEVEL: 'warn',
    // (e) watches with LIVE.clients sockets of one key, beyond the default per-key cap.
    HOOKGRAPH_MAX_SOCKETS_PER_KEY: String(LIVE.clients),
    HOST: '127.0.0.1',
    PORT: '0',
  };
  const config = loadConfig(env);

  progress('starting receiver process …');
  const receiver = await spawnNode([RECEIVER], {}, (out) => out.includes('"port"'));
  cleanup.push(() => receiver.stop());
  const receiverUrl = `http://127.0.0.1:${(JSON.parse(receiver.stdout().split('\n')[0]) as { port: number }).port}`;

  progress('starting api (this process) and migrating …');
  const api = await startApp(config, 'api', silentLogger);
  cleanup.push(() => api.stop());

  progress(`(a) raw pg-boss: insert and drain ${size.jobs} jobs (batch ${config.workerBatchSize} × ${config.workerConcurrency} workers) …`);
  const pgboss = await pgbossBaseline(databaseUrl, size.jobs, config.workerBatchSize, config.workerConcurrency, progress);
  progress(`(b) raw HTTP: ${size.posts} keep-alive POSTs to the receiver …`);
  const httpPerS = await httpBaseline(`${receiverUrl}/hook/raw`, size.posts, config.workerBatchSize * config.workerConcurrency, progress);

  progress('starting worker process …');
  /** Outside `tmp`, which is removed at the end: the profiles outlive the run. */
  const profileDir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-bench-profile-')) : '';
  const workerArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...HOOKGRAPH, 'worker'] : [...HOOKGRAPH, 'worker'];
  const worker = await spawnNode(workerArgs, { ...env, HOOKGRAPH_LOG_LEVEL: 'info' }, (_out, err) => err.includes('"msg":"ready"'));
  cleanup.push(() => worker.stop());

  const gql = graphql(api.url!);
  // (c) and (c2) differ only in the payload query: both event types have the schema that (c2)'s query selects from.
  const bulkKey = await setUpTenant(gql, rootKey, receiverUrl, size.subscriptions, 'bulk', { schema: ORDER_SCHEMA });
  const shapedKey = noShaped ? undefined : await setUpTenant(gql, rootKey, receiverUrl, size.subscriptions, 'shaped', { schema: ORDER_SCHEMA, payloadQuery: SHAPED_QUERY });
  const keyedKey = noKeyed ? undefined : await setUpTenant(gql, rootKey, receiverUrl, size.subscriptions, 'keyed', { schema: ORDER_SCHEMA, orderingKey: 'data.orderId' });
  const latencyKey = await setUpTenant(gql, rootKey, receiverUrl, 1, 'latency');

  progress(`(c) end to end: ${size.events} events × ${size.subscriptions} subscriptions through eventsPublish …`);
  /** (c) with CPU per process and PostgreSQL work; `client` and `workerPid` say which api and worker serve it, `key` which tenant publishes. */
  const measureEndToEnd = async (client: typeof gql, workerPid: number, key = bulkKey, orderIds?: number) => {
    const dbBefore = await databaseCounters(api.pool);
    const cpuBefore = { worker: cpuSeconds(workerPid), receiver: cpuSeconds(receiver.child.pid!), api: process.cpuUsage(), postgres: postgresCpuSeconds(pgDir) };
    const e2e = await endToEnd(client, key, api.pool, receiverUrl, size.events, size.subscriptions, progress, orderIds);
    const apiCpu = process.cpuUsage(cpuBefore.api);
    const cpu = {
      worker: cpuSeconds(workerPid) - cpuBefore.worker,
      postgres: postgresCpuSeconds(pgDir) - cpuBefore.postgres,
      api: (apiCpu.user + apiCpu.system) / 1e6,
      receiver: cpuSeconds(receiver.child.pid!) - cpuBefore.receiver,
    };
    // Other backends flush their statistics at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const dbAfter = await databaseCounters(api.pool);
    const db = databaseDelta(dbBefore, dbAfter);
    return { e2e, cpu, db, wal: { from: dbBefore.wal, to: dbAfter.wal } };
  };
  const { e2e, cpu, db, wal } = await measureEndToEnd(gql, worker.child.pid!);
  if (walDetail) {
    progress(`  WAL of (c) per delivery, by relation (${e2e.deliveries} deliveries):`);
    for (const share of await walBreakdown(api.pool, wal.from, wal.to)) {
      progress(`    ${share.what.padEnd(56)} ${fmt(share.bytes / e2e.deliveries).padStart(6)} bytes  ${(share.records / e2e.deliveries).toFixed(2)} records`);
    }
  }
  assertDataKeys('(c)', e2e.samples, Object.keys(ORDER_SCHEMA.properties));

  if (shapedKey) progress(`(c2) end to end, every subscription shaped (${SHAPED_QUERY}): ${size.events} events × ${size.subscriptions} subscriptions …`);
  const shaped = shapedKey ? await measureEndToEnd(gql, worker.child.pid!, shapedKey) : undefined;
  if (shaped) assertDataKeys('(c2)', shaped.e2e.samples, ['orderId', 'total']);

  if (keyedKey) progress(`(c3) end to end, every subscription ordered by orderingKey data.orderId over ${KEYED_ORDER_IDS} order ids: ${size.events} events × ${size.subscriptions} subscriptions …`);
  const keyed = keyedKey ? await measureEndToEnd(gql, worker.child.pid!, keyedKey, KEYED_ORDER_IDS) : undefined;
  if (keyed) await assertKeyedOrder(api.pool, '(c3)');

  if (!noBaselineSender) progress(`(f) hand-rolled pg-boss sender: ${e2e.deliveries} deliveries (one job each, batch 100 × 4 loops, undici POST, no signing, no attempt log) …`);
  const sender = noBaselineSender ? undefined : await handRolledSenderBaseline({ databaseUrl, pgDir, receiverUrl, events: size.events, subscriptions: size.subscriptions }, progress);
  const cpuPerDelivery = (c: typeof cpu, deliveries: number) =>
    `${((1000 * (c.worker + c.postgres + c.api + c.receiver)) / deliveries).toFixed(2)} ms (worker ${((1000 * c.worker) / deliveries).toFixed(2)}, postgres ${((1000 * c.postgres) / deliveries).toFixed(2)}, api ${((1000 * c.api) / deliveries).toFixed(2)})`;

  progress(`(d) latency: ${LATENCY_RATE} events/s for ${size.latencySeconds} s through ${singlePublish ? 'eventPublish' : 'eventsPublish every 20 ms'}, one subscription …`);
  const lat = noLatency ? { received: 0, p50: NaN, p95: NaN, p99: NaN, publishP50: NaN, publishP99: NaN } : await latency(gql, latencyKey, receiverUrl, LATENCY_RATE, size.latencySeconds, progress, singlePublish);
  const workerRss = peakRssMb(worker.child.pid!);
  const { rows: unfinished } = await api.pool.query<{ status: string; last_error: string | null; n: number }>(
    `select status, last_error, count(*)::int as n from delivery where status <> 'SUCCEEDED' group by 1, 2 order by 3 desc limit 5`,
  );
  for (const row of unfinished) progress(`  not (yet) SUCCEEDED: ${row.n} × ${row.status} (${row.last_error ?? 'no error'})`);

  progress(`(e) live fan-out: ${LIVE.clients} graphql-ws clients watch every delivery while ${LIVE.perSecond} events/s flow for ${size.latencySeconds} s …`);
  const live = noLive
    ? undefined
    : await liveFanOut(
        { apiUrl: api.url!, gql, key: await setUpTenant(gql, rootKey, receiverUrl, 1, 'live'), pool: api.pool, pubsub: api.services!.live.pubsub, ...LIVE, seconds: size.latencySeconds },
        progress,
      );

  // (g) and (h) run their own worker processes: the shared one stops here.
  await worker.stop();
  if (!noSlow) progress(`(g) slow receiver: tenant B ${SLOW.steadyPerS} events/s, tenant A ${SLOW.hangingPerS} events/s into a receiver that never answers, ${SLOW.seconds} s, HOOKGRAPH_DELIVERY_TIMEOUT=${SLOW.timeout} …`);
  const slow = noSlow ? undefined : await slowReceiver({ gql, rootKey, receiverUrl, pool: api.pool, env, ...SLOW }, progress);
  if (BACKLOG) progress(`(h) backlog: ${BACKLOG} deliveries published with no worker running, then drained by one worker process …`);
  const backlog = BACKLOG ? await backlogDrain({ gql, rootKey, receiverUrl, pool: api.pool, env, deliveries: BACKLOG, subscriptions: size.subscriptions }, progress) : undefined;

  const traced = tracing ? await endToEndTraced() : undefined;

  const rows: [string, string][] = [
    ['pg-boss insert (raw)', `${fmt(pgboss.insertPerS)} jobs/s`],
    ['pg-boss drain (raw, worker settings)', `${fmt(pgboss.drainPerS)} jobs/s`],
    ['HTTP POST (raw undici keep-alive)', `${fmt(httpPerS)} req/s`],
    [`publish (eventsPublish, ${size.subscriptions} subs each)`, `${fmt(e2e.publishPerS)} events/s (${fmt(e2e.publishPerS * size.subscriptions)} deliveries/s created)`],
    [`end to end (${e2e.deliveries} deliveries, all SUCCEEDED)`, `${fmt(e2e.deliveriesPerS)} deliveries/s in ${e2e.totalSeconds.toFixed(1)} s`],
    ['ratio vs raw pg-boss drain', (e2e.deliveriesPerS / pgboss.drainPerS).toFixed(2)],
    ...(sender
      ? ([
          [
            `hand-rolled pg-boss sender (${sender.deliveries} deliveries)`,
            `${fmt(sender.deliveriesPerS)} deliveries/s in ${sender.seconds.toFixed(1)} s; CPU ${((1000 * (sender.senderCpu + sender.postgresCpu)) / sender.deliveries).toFixed(2)} ms per delivery (sender ${((1000 * sender.senderCpu) / sender.deliveries).toFixed(2)}, postgres ${((1000 * sender.postgresCpu) / sender.deliveries).toFixed(2)}); ${sender.duplicates} duplicates`,
          ],
          ['ratio hookgraph end to end ÷ hand-rolled sender', (e2e.deliveriesPerS / sender.deliveriesPerS).toFixed(2)],
        ] as [string, string][])
      : []),
    ['duplicates at the receiver', String(e2e.duplicates)],
    ['CPU per delivery in (c), all processes', cpuPerDelivery(cpu, e2e.deliveries)],
    ...(shaped
      ? ([
          [
            `end to end, every subscription shaped (c2)`,
            `${fmt(shaped.e2e.deliveriesPerS)} deliveries/s in ${shaped.e2e.totalSeconds.toFixed(1)} s; publish ${fmt(shaped.e2e.publishPerS)} events/s; ${shaped.e2e.duplicates} duplicates`,
          ],
          ['ratio shaped ÷ unshaped (c2 ÷ c)', `${(shaped.e2e.deliveriesPerS / e2e.deliveriesPerS).toFixed(2)} deliveries/s, ${(shaped.e2e.publishPerS / e2e.publishPerS).toFixed(2)} publish events/s`],
          ['CPU per delivery in (c2), all processes', cpuPerDelivery(shaped.cpu, shaped.e2e.deliveries)],
          ['PostgreSQL work per delivery in (c2)', `${fmt(shaped.db.walBytes / shaped.e2e.deliveries)} WAL bytes, ${(shaped.db.rowWrites / shaped.e2e.deliveries).toFixed(1)} row writes`],
        ] as [string, string][])
      : []),
    ...(keyed
      ? ([
          [
            `end to end, ordered by key (c3, ${KEYED_ORDER_IDS} keys per subscription)`,
            `${fmt(keyed.e2e.deliveriesPerS)} deliveries/s in ${keyed.e2e.totalSeconds.toFixed(1)} s; publish ${fmt(keyed.e2e.publishPerS)} events/s; ${keyed.e2e.duplicates} duplicates`,
          ],
          ['ratio ordered by key ÷ unordered (c3 ÷ c)', `${(keyed.e2e.deliveriesPerS / e2e.deliveriesPerS).toFixed(2)} deliveries/s`],
          ['CPU per delivery in (c3), all processes', cpuPerDelivery(keyed.cpu, keyed.e2e.deliveries)],
          ['PostgreSQL work per delivery in (c3)', `${fmt(keyed.db.walBytes / keyed.e2e.deliveries)} WAL bytes, ${(keyed.db.rowWrites / keyed.e2e.deliveries).toFixed(1)} row writes`],
        ] as [string, string][])
      : []),
    ...(traced
      ? ([
          [`end to end with tracing on (OTLP http/json to a local collector)`, `${fmt(traced.e2e.deliveriesPerS)} deliveries/s in ${traced.e2e.totalSeconds.toFixed(1)} s (${((100 * traced.e2e.deliveriesPerS) / e2e.deliveriesPerS).toFixed(0)} % of tracing off); publish ${fmt(traced.e2e.publishPerS)} events/s`],
          ['CPU per delivery in (c) with tracing on', `${cpuPerDelivery(traced.cpu, traced.e2e.deliveries)}; collector ${traced.collectorCpu.toFixed(1)} s`],
          ['spans exported in (c) with tracing on', `${fmt(traced.spans)} in ${fmt(traced.requests)} requests (${(traced.spans / traced.e2e.deliveries).toFixed(2)} per delivery)`],
        ] as [string, string][])
      : []),
    [
      'PostgreSQL work per delivery in (c)',
      `${fmt(db.walBytes / e2e.deliveries)} WAL bytes (${(db.walFpi / e2e.deliveries).toFixed(2)} full-page images), ${(db.rowWrites / e2e.deliveries).toFixed(1)} row writes; delivery updates ${fmt(db.deliveryUpdates)} (${db.deliveryUpdates ? Math.round((100 * db.deliveryHotUpdates) / db.deliveryUpdates) : 0} % HOT), delivery table ${fmt(db.deliveryTableBytes / 2 ** 20)} MiB`,
    ],
    ['CPU during (c): worker / postgres / api / receiver', `${cpu.worker.toFixed(1)} / ${cpu.postgres.toFixed(1)} / ${cpu.api.toFixed(1)} / ${cpu.receiver.toFixed(1)} s of ${e2e.totalSeconds.toFixed(1)} s wall (2 cores)`],
    [
      `latency at ${LATENCY_RATE} events/s, ${singlePublish ? 'one eventPublish per event' : 'eventsPublish every 20 ms'} (${lat.received} received)`,
      `p50 ${lat.p50} ms, p95 ${lat.p95} ms, p99 ${lat.p99} ms (the publish call answered in ${lat.publishP50} ms, p50)`,
    ],
    ['worker peak RSS', `${workerRss} MiB`],
    ...(live
      ? ([
          [`live fan-out (${live.clients} clients × ${live.changes} changes)`, `${fmt(live.updatesPerS)} updates/s to clients (api CPU ${live.apiCpuSeconds.toFixed(1)} s of ${live.seconds.toFixed(1)} s); ${live.complete}/${live.clients} clients got every change`],
          ['live publish→PENDING update', `p50 ${live.pending.p50} ms, p99 ${live.pending.p99} ms`],
          ['live publish→SUCCEEDED update (via worker)', `p50 ${live.succeeded.p50} ms, p99 ${live.succeeded.p99} ms`],
        ] as [string, string][])
      : []),
    ...(slow
      ? ([
          [
            `slow receiver: tenant B publish→receive at ${SLOW.steadyPerS}/s (${slow.steady.received}/${slow.steady.sent} received)`,
            `p50 ${slow.steady.p50} ms, p99 ${slow.steady.p99} ms, max ${slow.steady.max} ms; of that the publish call p50 ${slow.steady.publishP50} ms, p99 ${slow.steady.publishP99} ms (worker with HOOKGRAPH_DELIVERY_TIMEOUT=${slow.timeout} for this phase)`,
          ],
          [
            `slow receiver: tenant A at ${slow.hanging.perSecond}/s into a hanging receiver`,
            `${slow.hanging.published} events, ${slow.hanging.attemptsReceived} attempts reached it; in flight at most ${slow.hanging.peakOpen} open at the receiver, ${slow.hanging.peakSending} SENDING (sampled)`,
          ],
        ] as [string, string][])
      : []),
    ...(backlog
      ? ([
          [
            `backlog drain (${fmt(backlog.deliveries)} deliveries published with no worker)`,
            `${fmt(backlog.drainPerS)} deliveries/s in ${backlog.drainSeconds.toFixed(1)} s (published in ${backlog.publishSeconds.toFixed(1)} s); ${backlog.duplicates} duplicates`,
          ],
          ['worker peak RSS draining the backlog', `${backlog.peakRssMb} MiB (VmRSS every 250 ms; VmHWM ${backlog.hwmMb} MiB)`],
        ] as [string, string][])
      : []),
    ['machine', `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${quick ? 'quick' : 'full'} run, ${((Date.now() - started) / 1000).toFixed(0)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write('\n' + rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n\n');
  process.stdout.write(
    JSON.stringify({
      deliveries_per_s: Math.round(e2e.deliveriesPerS),
      publish_events_per_s: Math.round(e2e.publishPerS),
      latency_ms: { p50: lat.p50, p95: lat.p95, p99: lat.p99 },
      baseline: { pgboss_jobs_per_s: Math.round(pgboss.drainPerS), http_posts_per_s: Math.round(httpPerS) },
      ratio_vs_pgboss: Number((e2e.deliveriesPerS / pgboss.drainPerS).toFixed(3)),
      ...(shaped
        ? {
            shaped: {
              deliveries_per_s: Math.round(shaped.e2e.deliveriesPerS),
              publish_events_per_s: Math.round(shaped.e2e.publishPerS),
              ratio_vs_unshaped: Number((shaped.e2e.deliveriesPerS / e2e.deliveriesPerS).toFixed(3)),
              cpu_ms_per_delivery: Number(((1000 * (shaped.cpu.worker + shaped.cpu.postgres + shaped.cpu.api + shaped.cpu.receiver)) / shaped.e2e.deliveries).toFixed(3)),
              unshaped_cpu_ms_per_delivery: Number(((1000 * (cpu.worker + cpu.postgres + cpu.api + cpu.receiver)) / e2e.deliveries).toFixed(3)),
            },
          }
        : {}),
      ...(keyed
        ? {
            ordered_by_key: {
              keys_per_subscription: KEYED_ORDER_IDS,
              deliveries_per_s: Math.round(keyed.e2e.deliveriesPerS),
              ratio_vs_unordered: Number((keyed.e2e.deliveriesPerS / e2e.deliveriesPerS).toFixed(3)),
              cpu_ms_per_delivery: Number(((1000 * (keyed.cpu.worker + keyed.cpu.postgres + keyed.cpu.api + keyed.cpu.receiver)) / keyed.e2e.deliveries).toFixed(3)),
            },
          }
        : {}),
      ...(sender ? { hand_rolled_sender: { deliveries_per_s: Math.round(sender.deliveriesPerS), ratio: Number((e2e.deliveriesPerS / sender.deliveriesPerS).toFixed(3)) } } : {}),
      worker_rss_mb: workerRss,
      ...(slow
        ? {
            slow_receiver: {
              delivery_timeout: slow.timeout,
              steady_latency_ms: { p50: slow.steady.p50, p99: slow.steady.p99, max: slow.steady.max },
              steady_received: slow.steady.received,
              steady_sent: slow.steady.sent,
              hanging_peak_open: slow.hanging.peakOpen,
              hanging_peak_sending: slow.hanging.peakSending,
            },
          }
        : {}),
      ...(backlog ? { backlog: { deliveries: backlog.deliveries, deliveries_per_s: Math.round(backlog.drainPerS), worker_peak_rss_mb: backlog.peakRssMb, worker_hwm_mb: backlog.hwmMb } } : {}),
      ...(traced ? { tracing_on: { deliveries_per_s: Math.round(traced.e2e.deliveriesPerS), publish_events_per_s: Math.round(traced.e2e.publishPerS), spans: traced.spans } } : {}),
      ...(live ? { live: { clients: live.clients, updates_per_s: Math.round(live.updatesPerS), publish_to_pending_ms: live.pending, publish_to_succeeded_ms: live.succeeded } } : {}),
    }) + '\n',
  );
  /**
   * (c) again, after everything else (the SDK, once started, is global to
   * this process): a second api in this process and a fresh worker, both
   * with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local collector process.
   */
  async function endToEndTraced() {
    progress('starting OTLP collector, traced api and traced worker …');
    const collector = await spawnNode([COLLECTOR], {}, (out) => out.includes('"port"'));
    cleanup.push(() => collector.stop());
    const collectorUrl = `http://127.0.0.1:${(JSON.parse(collector.stdout().split('\n')[0]) as { port: number }).port}`;
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'hookgraph-bench' };
    // The SDK reads OTEL_* from the process environment.
    Object.assign(process.env, otel);
    const tracedApi = await startApp(loadConfig({ ...env, ...otel }), 'api', silentLogger);
    cleanup.push(() => tracedApi.stop());
    await worker.stop();
    const tracedWorker = await spawnNode([...HOOKGRAPH, 'worker'], { ...env, ...otel, HOOKGRAPH_LOG_LEVEL: 'info' }, (_out, err) => err.includes('"msg":"ready"'));
    cleanup.push(() => tracedWorker.stop());
    progress(`(c) with tracing on: ${size.events} events × ${size.subscriptions} subscriptions …`);
    const collectorBefore = cpuSeconds(collector.child.pid!);
    const measured = await measureEndToEnd(graphql(tracedApi.url!), tracedWorker.child.pid!);
    const collectorCpu = cpuSeconds(collector.child.pid!) - collectorBefore;
    // Stopping flushes the spans still queued in both processes.
    await tracedWorker.stop();
    await tracedApi.stop();
    const stats = (await (await fetch(`${collectorUrl}/stats`)).json()) as { requests: number; spans: number };
    return { ...measured, collectorCpu, ...stats };
  }
  if (profile) {
    // The shared worker stopped before (g), which wrote its profile: it covers (c), (c2), (d) and (e).
    process.stdout.write(`worker CPU profile (${profileDir}):\n${summariseProfiles(profileDir)}\n`);
  }
}

/**
 * Throws unless the keyed tenant's deliveries were really ordered by key: within every (subscription, key)
 * no first attempt started before the previous one had finished (one at a time), and the deliveries of one
 * publish call started in the call's order. Calls in flight together have no order between them.
 */
async function assertKeyedOrder(pool: import('pg').Pool, phase: string): Promise<void> {
  const { rows } = await pool.query<{ overlapping: number; reordered: number; keys: number }>(
    `with a as (
       select d.id, d.webhook_subscription_id as sub, d.ordering_key as key, e.created_at as published, a.started_at as started,
              a.started_at + (a.duration_ms - 1) * interval '1 ms' as finished
         from delivery d
         join event e on e.id = d.event_id
         join delivery_attempt a on a.delivery_id = d.id and a.attempt_number = 1
        where d.ordering_key is not null),
     by_start as (select started, lag(finished) over (partition by sub, key order by started, id) as before from a),
     by_call as (select published, started, lag(published) over w as before_published, lag(started) over w as before from a
                 window w as (partition by sub, key order by id))
     select (select count(*)::int from by_start where started < before) as overlapping,
            (select count(*)::int from by_call where published = before_published and started < before) as reordered,
            (select count(distinct (sub, key))::int from a) as keys`,
  );
  const { overlapping, reordered, keys } = rows[0]!;
  if (keys === 0) throw new Error(`${phase}: no delivery was queued under an ordering key`);
  if (overlapping || reordered) throw new Error(`${phase}: of ${keys} keys, ${overlapping} deliveries started while an earlier one of their key was in flight, ${reordered} before an earlier one of their publish call`);
}

interface DatabaseCounters {
  wal: string;
  /** Full-page images written to the WAL (the first change of a page after a checkpoint). */
  walFpi: number;
  rowWrites: number;
  deliveryUpdates: number;
  deliveryHotUpdates: number;
  deliveryTableBytes: number;
}

/** WAL position and row-write counters; the statistics are flushed first so they are current. */
async function databaseCounters(pool: import('pg').Pool): Promise<DatabaseCounters> {
  await pool.query('select pg_stat_force_next_flush()');
  const { rows } = await pool.query<{ wal: string; fpi: string; writes: string; upd: string; hot: string; bytes: string }>(
    `select pg_current_wal_lsn()::text as wal, pg_table_size('delivery')::text as bytes,
            (select wal_fpi from pg_stat_wal)::text as fpi,
            (select sum(n_tup_ins + n_tup_upd + n_tup_del) from pg_stat_all_tables)::text as writes,
            (select n_tup_upd from pg_stat_user_tables where relname = 'delivery')::text as upd,
            (select n_tup_hot_upd from pg_stat_user_tables where relname = 'delivery')::text as hot`,
  );
  const row = rows[0]!;
  return { wal: row.wal, walFpi: Number(row.fpi), rowWrites: Number(row.writes), deliveryUpdates: Number(row.upd), deliveryHotUpdates: Number(row.hot), deliveryTableBytes: Number(row.bytes) };
}

function databaseDelta(before: DatabaseCounters, after: DatabaseCounters) {
  const lsn = (text: string) => {
    const [hi, lo] = text.split('/');
    return Number.parseInt(hi!, 16) * 2 ** 32 + Number.parseInt(lo!, 16);
  };
  return {
    walBytes: lsn(after.wal) - lsn(before.wal),
    walFpi: after.walFpi - before.walFpi,
    rowWrites: after.rowWrites - before.rowWrites,
    deliveryUpdates: after.deliveryUpdates - before.deliveryUpdates,
    deliveryHotUpdates: after.deliveryHotUpdates - before.deliveryHotUpdates,
    deliveryTableBytes: after.deliveryTableBytes,
  };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function shutdown(): Promise<void> {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
}

main().then(
  () => shutdown().then(() => process.exit(0)),
  async (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}${(error as { cause?: unknown }).cause ? `\ncause: ${String((error as { cause?: { stack?: string } }).cause?.stack ?? (error as { cause?: unknown }).cause)}` : ""}\n`);
    await shutdown();
    process.exit(1);
  },
);
