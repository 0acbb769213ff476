import { LRUCache } from 'lru-cache';
import { Agent } from 'undici';
import { parseAddress, type AddressGuard } from './address-guard.js';
import type { ErrorKind } from './retry-policy.js';
import { parseRetryAfter } from './retry-policy.js';

/** First bytes of a response body kept on the attempt. */
export const RESPONSE_BODY_LIMIT = 4096;

/**
 * Receiver hosts whose literal-IP check is kept: one entry per host a worker
 * sends to (under 100 bytes each), so 10,000 holds every receiver of a large
 * deployment in about 1 MB; the bound keeps URLs with ever new hosts from
 * growing it, and a miss is one cheap address parse.
 */
export const LITERAL_CHECK_ENTRIES = 10_000;

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SendResult {
  startedAt: Date;
  durationMs: number;
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  retryAfterMs?: number;
  /** Set when the attempt did not get a 2xx. */
  errorKind?: ErrorKind;
  error?: string;
}

export interface SenderOptions {
  guard: AddressGuard;
  timeoutMs: number;
  /** Upper bound on open connections per receiver origin. */
  connectionsPerOrigin?: number;
}

/**
 * HTTP client of the worker: one undici Agent with keep-alive pools per origin.
 * Every connection resolves through the address guard's `lookup`, which
 * refuses forbidden addresses and connects to the address it checked (no DNS
 * rebinding between check and connect). Redirects are not followed (undici
 * does not follow them unless asked); the response body is read up to 4 KiB.
 */
export class Sender {
  private readonly agent: Agent;
  /** Host → refusal of a literal IP (false: allowed, or a name); the guard's allow-list is fixed, so answers never change. */
  private readonly literalChecks = new LRUCache<string, string | false>({ max: LITERAL_CHECK_ENTRIES });

  constructor(private readonly options: SenderOptions) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: options.connectionsPerOrigin ?? 64,
      connect: { lookup: options.guard.lookup, timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async send(request: OutgoingRequest): Promise<SendResult> {
    const startedAt = new Date();
    const started = performance.now();
    const finish = (result: Omit<SendResult, 'startedAt' | 'durationMs'>): SendResult => ({ startedAt, durationMs: Math.round(performance.now() - started), ...result });
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return finish({ errorKind: 'INVALID_URL', error: 'the subscription url is not a valid URL' });
    }
    // Literal IPs never reach `lookup`, so they are checked here.
    const literal = literalRefusal(this.options.guard, this.literalChecks, url.hostname);
    if (literal) return finish({ errorKind: 'BLOCKED_TARGET', error: literal });
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal,
      });
      const responseBody = await readLimited(response.body, RESPONSE_BODY_LIMIT);
      const responseHeaders = flattenHeaders(response.headers);
      const status = response.statusCode;
      if (status >= 200 && status < 300) return finish({ status, responseHeaders, responseBody });
      return finish({
        status,
        responseHeaders,
        responseBody,
        retryAfterMs: parseRetryAfter(response.headers['retry-after']),
        errorKind: 'HTTP_STATUS',
        error: `receiver answered ${status}`,
      });
    } catch (error) {
      return finish(classifyError(error, signal.aborted, this.options.timeoutMs));
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function literalRefusal(guard: AddressGuard, literalChecks: LRUCache<string, string | false>, hostname: string): string | undefined {
  let refusal = literalChecks.get(hostname);
  if (refusal === undefined) {
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const reason = parseAddress(host) ? guard.refusalFor(host) : undefined;
    refusal = reason ? `refused to connect to ${host}: ${host} is ${reason}` : false;
    literalChecks.set(hostname, refusal);
  }
  return refusal || undefined;
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy(); // the rest is not read; undici drops that connection
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/;

/** Maps a network error to an error kind and a message safe to store and show. */
export function classifyError(error: unknown, timedOut: boolean, timeoutMs: number): Pick<SendResult, 'errorKind' | 'error'> {
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  if (timedOut || err.name === 'TimeoutError' || /TIMEOUT/.test(code)) return { errorKind: 'TIMEOUT', error: `no response within ${timeoutMs} ms` };
  if (code === 'EBLOCKEDTARGET') return { errorKind: 'BLOCKED_TARGET', error: err.message ?? 'target address refused' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return { errorKind: 'DNS', error: `host not found (${code})` };
  if (TLS_CODES.test(code)) return { errorKind: 'TLS', error: `TLS error (${code})` };
  return { errorKind: 'CONNECTION', error: `${code || err.name || 'error'}: ${err.message ?? err.cause?.message ?? 'connection failed'}`.slice(0, 500) };
}
