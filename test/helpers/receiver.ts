import http from 'node:http';
import { listenForTest } from './listen.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  /** When the answer was sent or the client gave up (the connection closed); unset while the request is open. */
  closedAt?: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
}

/** Decides the reply to each request; default answers 200. */
export type Responder = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>;

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests received and not yet answered or given up by the client. */
  readonly open: number;
  /** The most requests that were open at once. */
  readonly mostOpen: number;
  /** Replace how requests are answered. */
  respond(responder: Responder): void;
  /** Answer with these statuses in order, then 200. */
  replies(...statuses: (number | Reply)[]): void;
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** An HTTP receiver on 127.0.0.1 that records every request. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let responder: Responder = () => ({ status: 200, body: 'ok' });
  const waiters: { count: number; resolve: () => void }[] = [];
  let open = 0;
  let mostOpen = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      mostOpen = Math.max(mostOpen, ++open);
      res.on('close', () => {
        request.closedAt = Date.now();
        open--;
      });
      const index = requests.push(request) - 1;
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve();
      const reply = await responder(request, index);
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
  });
  const { port, close } = await listenForTest(server);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    get open() {
      return open;
    },
    get mostOpen() {
      return mostOpen;
    },
    respond(next) {
      responder = next;
    },
    replies(...statuses) {
      responder = (_req, index) => {
        const entry = statuses[index] ?? 200;
        return typeof entry === 'number' ? { status: entry } : entry;
      };
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${requests.length} of ${count} requests within ${timeoutMs}ms`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(requests.slice())) });
      });
    },
    close,
  };
}

/** The most arrivals within any window of `ms` starting at an arrival. */
export function mostWithin(times: readonly number[], ms: number): number {
  return Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + ms).length));
}
