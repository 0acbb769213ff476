import type { Express } from 'express';
import type { PgBoss } from 'pg-boss';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../store/db.js';
import * as queue from '../store/queue.js';
import { DELIVERY_QUEUES } from './jobs.js';

/**
 * Prometheus metrics of one hookgraph process, served on `/metrics` by every
 * role (a `worker` serves it next to its probes, see src/api/probes.ts).
 * Counters and histograms are per process: publish metrics come from the
 * processes that serve GraphQL, delivery metrics from the ones that deliver;
 * the queue gauges read the database and are the same everywhere. Labels
 * have a fixed, small set of values (never per tenant or subscription).
 *
 * Telling "receivers are failing" from "we are behind": failing receivers
 * raise `hookgraph_deliveries_total{outcome="RETRYING"|"FAILED"}` and the
 * attempt failures; a backlog raises `hookgraph_oldest_due_delivery_seconds`
 * (due jobs no worker has picked up) while `hookgraph_attempts_in_flight`
 * stays high (every fetched batch is busy sending).
 */
export class Metrics {
  readonly registry = new Registry();

  readonly eventsPublished = new Counter({ name: 'hookgraph_events_published_total', help: 'Events accepted by eventPublish/eventsPublish.', registers: [this.registry] });
  readonly deliveriesCreated = new Counter({ name: 'hookgraph_deliveries_created_total', help: 'Deliveries created by fan-out.', registers: [this.registry] });
  readonly deliveries = new Counter({
    name: 'hookgraph_deliveries_total',
    help: 'Delivery attempts by the status they left the delivery in (SUCCEEDED, RETRYING, FAILED) and cancellations.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'hookgraph_delivery_attempt_duration_seconds',
    help: 'Duration of HTTP delivery attempts.',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'hookgraph_delivery_latency_seconds',
    help: 'Time from publish (the event row\'s creation) to the successful attempt being recorded, retries included.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400],
    registers: [this.registry],
  });
  readonly attemptsInFlight = new Gauge({
    name: 'hookgraph_attempts_in_flight',
    help: 'Webhook HTTP requests this process has sent and not yet seen answered.',
    registers: [this.registry],
  });

  readonly jobsHeld = new Gauge({
    name: 'hookgraph_delivery_jobs_held',
    help: 'Delivery jobs this worker fetched and holds back because their subscription is using its whole in-flight share.',
    registers: [this.registry],
  });

  constructor(options: { defaults?: boolean } = {}) {
    if (options.defaults) collectDefaultMetrics({ register: this.registry, prefix: 'hookgraph_' });
  }

  /** Adds the queue depth gauge (jobs waiting per delivery queue), read from pg-boss on each scrape. */
  watchQueues(boss: PgBoss): void {
    new Gauge({
      name: 'hookgraph_queue_depth',
      help: 'Delivery jobs queued (created or retry, including deferred ones), as of pg-boss\'s last stats pass.',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        for (const name of DELIVERY_QUEUES) {
          const queue = await boss.getQueue(name).catch(() => null);
          if (queue) this.set({ queue: name }, queue.queuedCount ?? 0);
        }
      },
    });
  }

  /**
   * Adds the age of the oldest delivery job that is due and not yet picked
   * up, per delivery queue (0 when none is waiting): one index probe of
   * pg-boss's live-jobs index (job_i14) per queue and state, on each scrape.
   * On the ordered queue it also counts deliveries waiting behind a retrying
   * one of the same subscription.
   */
  watchBacklog(db: Db): void {
    new Gauge({
      name: 'hookgraph_oldest_due_delivery_seconds',
      help: 'Seconds since the oldest due, not yet started delivery job became due, per delivery queue.',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        // The database is unreachable: no series this scrape, rather than a stale value or a failed scrape.
        const rows = await queue.oldestDueSeconds(db, DELIVERY_QUEUES).then((r) => r, () => (this.reset(), []));
        for (const row of rows) this.set({ queue: row.name }, Math.max(0, row.seconds ?? 0));
      },
    });
  }

  /** Mounts `GET /metrics`. */
  route(app: Express): void {
    app.get('/metrics', async (_req, res) => {
      res.set('content-type', this.registry.contentType);
      res.send(await this.registry.metrics());
    });
  }
}
