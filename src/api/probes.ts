import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Metrics } from '../delivery/metrics.js';

/** `/healthz` (the process answers) and `/readyz` (`ready()` resolves true; 503 otherwise). */
export function mountProbes(app: Express, ready: () => Promise<boolean>): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ok = await ready().catch(() => false);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready' });
  });
}

export interface RunningProbeServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP server of a `worker` process: probes and `/metrics`, nothing
 * else (no GraphQL), so every process of a deployment can be probed and scraped.
 */
export async function startProbeServer(options: { ready: () => Promise<boolean>; metrics: Metrics; port: number; host: string }): Promise<RunningProbeServer> {
  const app = express();
  app.disable('x-powered-by');
  mountProbes(app, options.ready);
  options.metrics.route(app);
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
