import fs from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * The bench's live watchers, in a process of their own so their cost is not
 * billed to the api: `LIVE_URL`, `LIVE_KEY`, `LIVE_CLIENTS`. Prints
 * `{"connected":n}` once, then `{"received":n}` every 200 ms; on the stdin
 * line `report <file>` writes every first arrival (deliveryId, status,
 * Date.now()) per client to <file> and prints `{"reported":true}`.
 */
const url = process.env.LIVE_URL!.replace(/^http/, 'ws') + '/graphql';
const count = Number(process.env.LIVE_CLIENTS ?? 200);
const WATCH = 'subscription { deliveryUpdated { id status attemptCount } }';
const arrivals: Map<string, number>[] = [];
let received = 0;
let connected = 0;

for (let i = 0; i < count; i++) {
  const seen = new Map<string, number>();
  arrivals.push(seen);
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${process.env.LIVE_KEY}` }, retryAttempts: 0, lazy: false });
  client.on('connected', () => {
    if (++connected === count) process.stdout.write(JSON.stringify({ connected }) + '\n');
  });
  client.subscribe<{ deliveryUpdated: { id: string; status: string } }>(
    { query: WATCH },
    {
      next: ({ data }) => {
        if (!data) return;
        received++;
        const k = `${data.deliveryUpdated.id} ${data.deliveryUpdated.status}`;
        if (!seen.has(k)) seen.set(k, Date.now());
      },
      error: (err) => process.stderr.write(`client ${i}: ${JSON.stringify(err).slice(0, 200)}\n`),
      complete: () => undefined,
    },
  );
}
setInterval(() => process.stdout.write(JSON.stringify({ received }) + '\n'), 200);
process.on('SIGUSR2', () => {
  fs.writeFileSync(process.env.LIVE_REPORT!, JSON.stringify(arrivals.map((seen) => [...seen])));
  process.stdout.write(JSON.stringify({ reported: true }) + '\n');
});
