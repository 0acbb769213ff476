import { PgBoss, type Job } from 'pg-boss';
import { request } from 'undici';

/**
 * (f) The webhook sender a user could write in an afternoon instead of
 * hookgraph, in a process of its own like hookgraph's worker: one pg-boss job
 * per delivery carrying url and body, `boss.work` with batches of 100 and 4
 * local loops, one undici POST per job (the default dispatcher), no signing,
 * no attempt log, no status rows. It fetches the way hookgraph's worker does
 * (burst when a batch is full, 0.5 s polling), or it would be capped by
 * polling rather than by its work. `DATABASE_URL`, `SENDER_SCHEMA`,
 * `SENDER_QUEUE`; prints `{"ready":true}` once its loops run.
 */
interface WebhookJob {
  url: string;
  body: string;
}

const queue = process.env.SENDER_QUEUE!;
const boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, schema: process.env.SENDER_SCHEMA! });
boss.on('error', (error) => process.stderr.write(`${String(error)}\n`));
await boss.start();
if (!(await boss.getQueue(queue))) await boss.createQueue(queue);

async function send(job: Job<WebhookJob>): Promise<void> {
  // webhook-id lets the receiver count duplicates, as it does for hookgraph's deliveries.
  const response = await request(job.data.url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': job.id }, body: job.data.body });
  await response.body.text();
  if (response.statusCode >= 300) throw new Error(`receiver answered ${response.statusCode}`);
}

await boss.work<WebhookJob>(queue, { batchSize: 100, localConcurrency: 4, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
  await Promise.all(jobs.map(send));
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
process.on('SIGTERM', () => boss.stop({ graceful: false, close: true }).then(() => process.exit(0)));
