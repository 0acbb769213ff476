import type { Express } from 'express';
import type { PgBoss } from 'pg-boss';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DELIVERY_QUEUES } from './jobs.js';

/**
 * Prometheus metrics of one hookgraph process, served on `/metrics` by the
 * api and serve roles. Counters are per process: a `worker`-only process has
 * no HTTP server, so in split deployments scrape the serve/api processes for
 * publish metrics and run workers as `serve` (or read the queue depth gauge,
 * which reads the database and is the same everywhere).
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

  /** Mounts `GET /metrics`. */
  route(app: Express): void {
    app.get('/metrics', async (_req, res) => {
      res.set('content-type', this.registry.contentType);
      res.send(await this.registry.metrics());
    });
  }
}
