import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * (g)'s receiver that hangs: it accepts every connection and reads every
 * request but never answers, until the client gives up (hookgraph's
 * HOOKGRAPH_DELIVERY_TIMEOUT). Its own process and port, so its connections
 * are a separate origin in the worker's HTTP client, as another tenant's
 * endpoint would be. `GET /stats` (answered) returns the requests received,
 * how many are open now and the most that were open at once.
 */
let received = 0;
let open = 0;
let peakOpen = 0;
const sockets = new Set<Socket>();

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ received, open, peakOpen }));
    return;
  }
  received++;
  peakOpen = Math.max(peakOpen, ++open);
  req.resume();
  // Fires when the client drops the connection (its timeout): the request is no longer in flight.
  res.on('close', () => open--);
});
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
// Stopping ends the hanging requests at once (the client sees the connection close), so the phase ends quickly.
process.on('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});
