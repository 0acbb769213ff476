import pg from 'pg';
import type { Logger } from '../log.js';
import { LIVE_CHANNEL, type LiveMessage } from './messages.js';
import { listen, serverTime } from '../store/notify.js';

/** Shows up in pg_stat_activity, so operators (and tests) can find the LISTEN connection. */
export const LISTENER_APPLICATION_NAME = 'hookgraph-live';

export interface ListenerOptions {
  url: string;
  log: Logger;
  /** Messages of one NOTIFY, in commit order. */
  onMessages: (messages: LiveMessage[]) => void;
  /**
   * After the connection was lost and is back: notifications in between are
   * gone, so whatever changed since `since` (database clock) must be re-read.
   */
  onResync: (since: Date) => void;
  /** How often the connection is checked with a query; also its timeout. */
  heartbeatMs?: number;
  /** Reconnect delays grow from min to max (doubling, ±20 % jitter). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/**
 * The one LISTEN connection of an api process. NOTIFY is a hint, not the truth:
 * the connection is checked by a heartbeat, re-opened with backoff when lost,
 * and every reconnect asks for a resync from the last moment it was known alive.
 */
export class LiveListener {
  private client: pg.Client | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** Database time of the last successful heartbeat (or LISTEN). */
  private aliveAt: Date | undefined;
  private readonly heartbeatMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  /** Connects since start (1 after the first). */
  connects = 0;

  constructor(private readonly options: ListenerOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.backoffMinMs = options.backoffMinMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Connects and listens; a failure here fails the start of the process. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { log } = this.options;
    const client = new pg.Client({ connectionString: this.options.url, application_name: LISTENER_APPLICATION_NAME, keepAlive: true });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (n) => {
      if (n.channel === LIVE_CHANNEL && n.payload) this.dispatch(n.payload);
    });
    let now: Date;
    try {
      await client.connect();
      now = await listen(client);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    const previousAliveAt = this.aliveAt;
    this.client = client;
    this.aliveAt = now;
    this.failures = 0;
    this.connects++;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void this.beat(client), this.heartbeatMs);
    this.heartbeat.unref();
    if (previousAliveAt) {
      log.info('live listener reconnected', { channel: LIVE_CHANNEL, since: previousAliveAt.toISOString() });
      this.options.onResync(previousAliveAt);
    } else {
      log.info('live listener connected', { channel: LIVE_CHANNEL });
    }
  }

  private dispatch(payload: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch (err) {
      this.options.log.warn('live listener ignored a malformed notification', { err, bytes: payload.length });
      return;
    }
    const messages = (Array.isArray(parsed) ? parsed : [parsed]).filter(isMessage);
    if (messages.length === 0) return;
    try {
      this.options.onMessages(messages);
    } catch (err) {
      this.options.log.error('live fan-out failed', { err });
    }
  }

  private async beat(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`heartbeat got no answer within ${this.heartbeatMs}ms`)), this.heartbeatMs);
      });
      const now = await Promise.race([serverTime(client), timeout]);
      if (client === this.client) this.aliveAt = now;
    } catch (err) {
      this.lost(client, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops `client` (once) and schedules a reconnect. */
  private lost(client: pg.Client, err: unknown): void {
    if (this.stopped) return;
    if (client === this.client) {
      this.client = undefined;
      clearInterval(this.heartbeat);
      this.options.log.warn('live listener lost its connection; reconnecting', { err });
      // Terminated connections may not emit 'end'; make sure the socket is gone.
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    const base = Math.min(this.backoffMaxMs, this.backoffMinMs * 2 ** this.failures);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.failures++;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().catch((err) => {
        if (this.stopped) return;
        this.options.log.warn('live listener could not reconnect; retrying', { err, attempt: this.failures, delayMs: delay });
        this.scheduleReconnect();
      });
    }, delay);
    this.retry.unref();
  }
}

function isMessage(value: unknown): value is LiveMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.kind === 'string' && typeof m.tenantId === 'string' && typeof m.id === 'string';
}
