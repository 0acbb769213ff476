import dns from 'node:dns';
import fs from 'node:fs/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';

/**
 * Resolves receiver host names for the address guard without the libuv thread
 * pool: `dns.lookup` runs getaddrinfo on 4 shared threads, so a few slow names
 * would stall every lookup, file read and crypto call of the process. Here each
 * query runs on c-ares with a per-try timeout and a try count, a deadline
 * cancels it, and at most MAX_IN_FLIGHT queries run at once (a bounded queue
 * waits behind them, refused beyond that). Answers are cached briefly, bounded.
 *
 * c-ares does not read /etc/hosts, so `localhost` (and `*.localhost`, RFC 6761)
 * is answered as loopback here and /etc/hosts is read once and consulted
 * first, as the system resolver would. Search domains are not applied: use
 * fully qualified names.
 */
export interface HostResolverOptions {
  /** Whole lookup, queue wait included. */
  deadlineMs?: number;
  /** c-ares: time given to a name server on the first try. */
  tryTimeoutMs?: number;
  /** c-ares: tries per name server. */
  tries?: number;
  maxInFlight?: number;
  maxQueued?: number;
  /** Upper bound on how long an answer is reused (the record's TTL when lower). */
  cacheTtlMs?: number;
  cacheSize?: number;
  hostsFile?: string;
  /** Name servers (`ip` or `ip:port`); the system's (/etc/resolv.conf) when unset. */
  servers?: string[];
}

export const DNS_DEADLINE_MS = 5000;
export const DNS_TRY_TIMEOUT_MS = 2000;
export const DNS_TRIES = 2;
export const DNS_MAX_IN_FLIGHT = 64;
export const DNS_MAX_QUEUED = 1024;
export const DNS_CACHE_TTL_MS = 30_000;
/**
 * Host names whose answer is kept: one entry per receiver host (a few
 * addresses, about 200 bytes), so 10,000 covers the receivers of a large
 * deployment in a couple of MB; past it the least recently used name is
 * asked again, at worst one query per delivery as without a cache.
 */
export const DNS_CACHE_SIZE = 10_000;

const LOOPBACK = ['127.0.0.1', '::1'];
/** Answers that mean "this name has no such address"; anything else is a temporary failure. */
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'EBADNAME', 'EFORMERR']);

/** Error codes as `dns.lookup` reports them, which the sender already classifies: ENOTFOUND, or EAI_AGAIN for a temporary failure. */
export class ResolveError extends Error {
  constructor(
    readonly code: 'ENOTFOUND' | 'EAI_AGAIN',
    message: string,
  ) {
    super(message);
    this.name = 'ResolveError';
  }
}

interface Waiter {
  start: () => void;
  fail: (error: Error) => void;
}

export class HostResolver {
  private readonly options: Required<Omit<HostResolverOptions, 'servers'>> & Pick<HostResolverOptions, 'servers'>;
  /** Positive answers, each kept for its own TTL (capped at cacheTtlMs). */
  private readonly cache: LRUCache<string, string[]>;
  /** One query per name at a time; later callers share it. */
  private readonly pending = new Map<string, Promise<string[]>>();
  private readonly queue: Waiter[] = [];
  private inFlight = 0;
  private hosts?: Promise<Map<string, string[]>>;

  constructor(options: HostResolverOptions = {}) {
    this.options = {
      deadlineMs: DNS_DEADLINE_MS,
      tryTimeoutMs: DNS_TRY_TIMEOUT_MS,
      tries: DNS_TRIES,
      maxInFlight: DNS_MAX_IN_FLIGHT,
      maxQueued: DNS_MAX_QUEUED,
      cacheTtlMs: DNS_CACHE_TTL_MS,
      cacheSize: DNS_CACHE_SIZE,
      hostsFile: '/etc/hosts',
      ...options,
    };
    this.cache = new LRUCache({ max: this.options.cacheSize, ttl: this.options.cacheTtlMs });
  }

  /** Every IPv4 and IPv6 address of `hostname` (IPv4 first); rejects with a ResolveError. */
  readonly resolve = async (hostname: string): Promise<string[]> => {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    if (net.isIP(host)) return [host];
    if (host === 'localhost' || host.endsWith('.localhost')) return LOOPBACK;
    const listed = (await this.hostsFile()).get(host);
    if (listed) return listed;
    const cached = this.cache.get(host);
    if (cached) return cached;
    let query = this.pending.get(host);
    if (!query) {
      query = this.query(host).finally(() => this.pending.delete(host));
      this.pending.set(host, query);
    }
    return query;
  };

  /** Queue wait and query under one deadline; the query is cancelled when it passes. */
  private query(host: string): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      let resolver: dns.promises.Resolver | undefined;
      let done = false;
      const finish = (error: Error | null, addresses?: string[]) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(addresses!);
      };
      const timer = setTimeout(() => {
        const queued = this.queue.indexOf(waiter);
        if (queued >= 0) this.queue.splice(queued, 1);
        resolver?.cancel();
        finish(new ResolveError('EAI_AGAIN', `${host} did not resolve within ${this.options.deadlineMs} ms`));
      }, this.options.deadlineMs);
      const waiter: Waiter = {
        start: () => {
          this.inFlight++;
          resolver = new dns.promises.Resolver({ timeout: this.options.tryTimeoutMs, tries: this.options.tries });
          if (this.options.servers) resolver.setServers(this.options.servers);
          this.ask(resolver, host).then(
            (addresses) => finish(null, addresses),
            (error: Error) => finish(error),
          ).finally(() => {
            this.inFlight--;
            this.queue.shift()?.start();
          });
        },
        fail: (error) => finish(error),
      };
      if (this.inFlight < this.options.maxInFlight) waiter.start();
      else if (this.queue.length < this.options.maxQueued) this.queue.push(waiter);
      else waiter.fail(new ResolveError('EAI_AGAIN', `too many host name lookups waiting; ${host} was not looked up`));
    });
  }

  /** A and AAAA together; either may be missing. Settles when both have (a cancel settles both). */
  private async ask(resolver: dns.promises.Resolver, host: string): Promise<string[]> {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host, { ttl: true }), resolver.resolve6(host, { ttl: true })]);
    const records = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (records.length === 0) {
      const codes = [v4, v6].map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code ?? '' : 'ENODATA'));
      if (codes.every((code) => NOT_FOUND.has(code))) throw new ResolveError('ENOTFOUND', `${host} does not resolve`);
      throw new ResolveError('EAI_AGAIN', `${host} did not resolve (${codes.find((code) => !NOT_FOUND.has(code))})`);
    }
    const addresses = records.map((r) => r.address);
    const ttlMs = Math.min(this.options.cacheTtlMs, ...records.map((r) => r.ttl * 1000));
    if (ttlMs > 0) this.cache.set(host, addresses, { ttl: ttlMs });
    return addresses;
  }

  private hostsFile(): Promise<Map<string, string[]>> {
    this.hosts ??= fs.readFile(this.options.hostsFile, 'utf8').then(parseHosts, () => new Map());
    return this.hosts;
  }
}

/** `address name alias…` lines; `#` starts a comment. */
export function parseHosts(text: string): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || names.length === 0 || !ipaddr.isValid(address)) continue;
    for (const name of names) {
      const key = name.toLowerCase().replace(/\.$/, '');
      const list = hosts.get(key) ?? [];
      if (!list.includes(address)) list.push(address);
      hosts.set(key, list);
    }
  }
  return hosts;
}

/** The process's one resolver: the in-flight cap holds per process, API and worker together. */
export const hostResolver = new HostResolver();
