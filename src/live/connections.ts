import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';

/** Close codes this process uses on live sockets (graphql-ws keeps 4400–4499 for its protocol). */
export const CloseCodes = {
  /** The key was revoked while the socket was open; same as connecting with a bad key. Clients should not retry. */
  keyRevoked: { code: 4401, reason: 'Unauthorized: API key revoked' },
  /** The client did not read fast enough and its buffer overflowed. Reconnect, then catch up (`since`). */
  slowConsumer: { code: 1013, reason: 'Try again later: client too slow for live updates' },
  /** The key already has HOOKGRAPH_MAX_SOCKETS_PER_KEY sockets open (1008, policy violation). Share a socket, or close one first. */
  tooManySockets: { code: 1008, reason: 'Too many live connections for this API key' },
} as const;

interface Entry {
  tenantId: string;
  keyId: string;
}

/**
 * The open, authenticated WebSockets of this process, by API key, so that a
 * revoked key's sockets can be closed and a slow client dropped.
 */
export class ConnectionRegistry {
  private readonly sockets = new Map<WebSocket, Entry>();
  private readonly byKey = new Map<string, Set<WebSocket>>();
  /** Sockets closed since start, by reason (for metrics). */
  readonly closed = { keyRevoked: 0, slowConsumer: 0 };

  constructor(private readonly log: Logger) {}

  register(socket: WebSocket, entry: Entry): void {
    this.sockets.set(socket, entry);
    let set = this.byKey.get(entry.keyId);
    if (!set) this.byKey.set(entry.keyId, (set = new Set()));
    set.add(socket);
    socket.once('close', () => this.forget(socket));
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Open sockets of one API key. */
  openFor(keyId: string): number {
    return this.byKey.get(keyId)?.size ?? 0;
  }

  /** Key ids with at least one open socket. */
  keyIds(): string[] {
    return [...this.byKey.keys()];
  }

  /** Closes every socket of a revoked key; returns how many. */
  closeKey(keyId: string): number {
    const sockets = [...(this.byKey.get(keyId) ?? [])];
    for (const socket of sockets) this.close(socket, CloseCodes.keyRevoked);
    this.closed.keyRevoked += sockets.length;
    if (sockets.length) this.log.info('closed live sockets of a revoked API key', { keyId, sockets: sockets.length });
    return sockets.length;
  }

  /** Drops a client that cannot keep up. */
  dropSlow(socket: WebSocket): void {
    const entry = this.sockets.get(socket);
    this.log.warn('dropping a slow live client', { keyId: entry?.keyId, tenantId: entry?.tenantId });
    this.closed.slowConsumer++;
    this.close(socket, CloseCodes.slowConsumer);
  }

  private close(socket: WebSocket, { code, reason }: { code: number; reason: string }): void {
    this.forget(socket);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason);
  }

  private forget(socket: WebSocket): void {
    const entry = this.sockets.get(socket);
    if (!entry) return;
    this.sockets.delete(socket);
    const set = this.byKey.get(entry.keyId);
    set?.delete(socket);
    if (set?.size === 0) this.byKey.delete(entry.keyId);
  }
}
