import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Outbound address guard (SSRF protection). A target may only be reached on
 * globally routable unicast addresses: loopback, private, link-local (incl.
 * 169.254.169.254), unique-local, CGNAT, multicast, unspecified, documentation
 * and other special ranges are refused, as are IPv6 forms that embed an IPv4
 * address (mapped, NAT64, 6to4, Teredo). HOOKGRAPH_ALLOW_TARGETS exempts CIDRs
 * and host names. Used when a subscription is saved and again, through
 * `lookup`, for every connection the sender opens: the address checked is the
 * address connected to, so DNS rebinding cannot slip past.
 */
export type GuardRefusal = { ok: false; code: 'INVALID_URL' | 'FORBIDDEN_TARGET'; message: string };
export type GuardResult = { ok: true; url: URL; addresses: string[] } | GuardRefusal;

type Resolver = (hostname: string) => Promise<string[]>;

const systemResolver: Resolver = async (hostname) => (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** A save must not hang on a slow resolver. */
const RESOLVE_TIMEOUT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms))),
  ]);
}

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDTARGET';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

/** Parses one HOOKGRAPH_ALLOW_TARGETS entry; throws with a readable message when it is neither a CIDR, an IP nor a host name. */
export function parseAllowEntry(entry: string): { cidr: [ipaddr.IPv4 | ipaddr.IPv6, number] } | { host: string } {
  if (entry.includes('/')) {
    try {
      return { cidr: ipaddr.parseCIDR(entry) };
    } catch {
      throw new Error(`"${entry}" is not a valid CIDR`);
    }
  }
  if (ipaddr.isValid(entry)) {
    const address = ipaddr.parse(entry);
    return { cidr: [address, address.kind() === 'ipv4' ? 32 : 128] };
  }
  if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(entry)) {
    throw new Error(`"${entry}" is neither a CIDR, an IP address nor a host name`);
  }
  return { host: entry.toLowerCase() };
}

export class AddressGuard {
  private readonly cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  private readonly hosts: string[] = [];

  constructor(allowTargets: readonly string[] = [], private readonly resolver: Resolver = systemResolver) {
    for (const entry of allowTargets) {
      const parsed = parseAllowEntry(entry);
      if ('cidr' in parsed) this.cidrs.push(parsed.cidr);
      else this.hosts.push(parsed.host);
    }
  }

  /** True when the host name itself is on the allow-list (exact, or `*.example.com` for subdomains). */
  hostAllowed(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    return this.hosts.some((allowed) => (allowed.startsWith('*.') ? host.endsWith(allowed.slice(1)) : host === allowed));
  }

  /** Why `address` may not be contacted, or undefined when it may. */
  refusalFor(address: string): string | undefined {
    if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
    let parsed = ipaddr.parse(address);
    for (const [range, bits] of this.cidrs) {
      if (parsed.kind() === range.kind() && parsed.match(range, bits)) return undefined;
    }
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
      parsed = (parsed as ipaddr.IPv6).toIPv4Address();
      for (const [range, bits] of this.cidrs) {
        if (range.kind() === 'ipv4' && parsed.match(range, bits)) return undefined;
      }
    }
    const range = parsed.range();
    if (range === 'unicast') return undefined;
    return `${address} is a ${range} address`;
  }

  /** Checks a url as saved on a subscription: shape, then every address its host resolves to. */
  async checkUrl(raw: string): Promise<GuardResult> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, code: 'INVALID_URL', message: 'Not a valid absolute URL.' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, code: 'INVALID_URL', message: `Scheme "${url.protocol.slice(0, -1)}" is not allowed; use http or https.` };
    if (!url.hostname) return { ok: false, code: 'INVALID_URL', message: 'The URL has no host.' };
    if (url.username || url.password) return { ok: false, code: 'INVALID_URL', message: 'Credentials in the URL are not allowed; use custom headers instead.' };
    if (raw.length > 2048) return { ok: false, code: 'INVALID_URL', message: 'The URL is longer than 2048 characters.' };
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (this.hostAllowed(host)) return { ok: true, url, addresses: [] };
    let addresses: string[];
    if (ipaddr.isValid(host)) addresses = [host];
    else {
      try {
        addresses = await withTimeout(this.resolver(host), RESOLVE_TIMEOUT_MS);
      } catch {
        return { ok: false, code: 'INVALID_URL', message: `The host "${host}" does not resolve (or not within ${RESOLVE_TIMEOUT_MS / 1000}s).` };
      }
    }
    if (addresses.length === 0) return { ok: false, code: 'INVALID_URL', message: `The host "${host}" does not resolve.` };
    for (const address of addresses) {
      const refusal = this.refusalFor(address);
      if (refusal) return { ok: false, code: 'FORBIDDEN_TARGET', message: `The host "${host}" resolves to ${refusal}, which hookgraph does not deliver to (see HOOKGRAPH_ALLOW_TARGETS).` };
    }
    return { ok: true, url, addresses };
  }

  /**
   * A `lookup` for `net.connect` / undici's `connect` option: resolves, refuses
   * the connection if any address is not allowed, and connects to the address
   * it checked.
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const resolved = ipaddr.isValid(host) ? Promise.resolve([host]) : this.resolver(host);
    resolved.then(
      (addresses) => {
        if (!this.hostAllowed(host)) {
          for (const address of addresses) {
            const refusal = this.refusalFor(address);
            if (refusal) return callback(new BlockedAddressError(`refused to connect to ${host}: ${refusal}`), '', 0);
          }
        }
        if (addresses.length === 0) return callback(Object.assign(new Error(`${host} has no addresses`), { code: 'ENOTFOUND' }), '', 0);
        const entries = addresses.map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv4' ? 4 : 6 }));
        if (options.all) callback(null, entries);
        else callback(null, entries[0].address, entries[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
