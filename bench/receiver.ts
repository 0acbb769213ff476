import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The benchmark's webhook receiver, in its own process so its CPU shows up
 * apart from hookgraph's. Answers every POST with 200 at once, counts them,
 * and records publish→receive latency from the payload's `sentAt` (ms since
 * epoch, same machine clock). `GET /stats` returns the count and latencies
 * since the last `POST /reset`, and the first few bodies (to check their shape).
 */
let count = 0;
let latencies: number[] = [];
const seen = new Set<string>();
let duplicates = 0;
/** The first bodies since the last reset, for a check of what was sent (a few, so keeping them costs nothing). */
const SAMPLES = 5;
let samples: string[] = [];

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/stats')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    // `?count` leaves out the latencies (polling while a run is in progress).
    res.end(JSON.stringify({ count, duplicates, latencies: req.url.includes('?count') ? [] : latencies, samples }));
    return;
  }
  if (req.url === '/reset') {
    count = 0;
    duplicates = 0;
    latencies = [];
    samples = [];
    seen.clear();
    res.end('{}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    count++;
    const body = Buffer.concat(chunks).toString();
    if (samples.length < SAMPLES) samples.push(body);
    const key = `${req.headers['webhook-id'] ?? ''}${req.url}`;
    if (seen.has(key)) duplicates++;
    else seen.add(key);
    const at = body.indexOf('"sentAt":');
    if (at >= 0) latencies.push(Date.now() - Number.parseInt(body.slice(at + 9), 10));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
