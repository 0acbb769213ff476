import type { LookupAddress, LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { DNS_DEADLINE_MS, hostResolver } from './host-resolver.js';

/**
 * Outbound address guard (SSRF protection). A target may only be reached on
 * globally routable unicast addresses: loopback, private, link-local (incl.
 * 169.254.169.254), unique-local, site-local, CGNAT, multicast, unspecified,
 * broadcast, documentation and other special ranges are refused, and so is
 * IPv6 outside 2000::/3. IPv6 forms that embed an IPv4 address (mapped, NAT64
 * 64:ff9b::/96, 6to4) are judged by that IPv4 address; IPv4-compatible
 * (::/96), Teredo, IPv4-translated and the local-use NAT64 prefix (whose
 * IPv4 position depends on the network) are refused outright.
 * HOOKGRAPH_ALLOW_TARGETS exempts CIDRs and host names. Used when a
 * subscription is saved and again, through `lookup`, for every connection the
 * sender opens: the address checked is the address connected to, so DNS
 * rebinding cannot slip past. What a name resolves to is never told: a tenant
 * must not learn internal addresses by naming hosts.
 */
export type GuardRefusal = { ok: false; code: 'INVALID_URL' | 'FORBIDDEN_TARGET'; message: string };
export type GuardResult = { ok: true; url: URL; addresses: string[] } | GuardRefusal;

type Resolver = (hostname: string) => Promise<string[]>;

/** Said of a host name whose addresses are refused, without naming them. */
export const RESOLVES_TO_FORBIDDEN = 'resolves to an address that is not allowed (private, loopback, link-local, metadata or another special-purpose address)';

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  multicast: 'a multicast',
  linkLocal: 'a link-local',
  loopback: 'a loopback',
  carrierGradeNat: 'a carrier-grade NAT',
  private: 'a private',
  reserved: 'a reserved',
  uniqueLocal: 'a unique-local',
  deprecatedSiteLocal: 'a site-local',
  rfc6145: 'an IPv4-translated',
  rfc6052: 'a local-use NAT64',
  teredo: 'a Teredo',
  '6to4': 'a 6to4',
  amt: 'an AMT',
  as112: 'an AS112',
  as112v6: 'an AS112',
};

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];

/**
 * Parses an IP address. ipaddr.js reads `::1.2.3.4` as IPv4-mapped; it is
 * IPv4-compatible (::/96), so a dotted tail is rewritten to hex first.
 */
export function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const dotted = address.includes(':') && /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number);
    if ([a, b, c, d].some((n) => n > 255)) return undefined;
    address = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  return ipaddr.isValid(address) ? ipaddr.parse(address) : undefined;
}

/** The IPv4 address an IPv6 address carries and is delivered to, for the forms that carry one at a fixed place. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (address.isIPv4MappedAddress() || address.match(NAT64_WELL_KNOWN)) return v4(p[6], p[7]);
  if (address.range() === '6to4') return v4(p[1], p[2]);
  return undefined;
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
    const [address, bits] = entry.split('/');
    const parsed = parseAddress(address);
    const prefix = /^\d+$/.test(bits ?? '') ? Number(bits) : NaN;
    if (!parsed || !(prefix <= (parsed.kind() === 'ipv4' ? 32 : 128))) throw new Error(`"${entry}" is not a valid CIDR`);
    return { cidr: [parsed, prefix] };
  }
  const address = parseAddress(entry);
  if (address) return { cidr: [address, address.kind() === 'ipv4' ? 32 : 128] };
  if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(entry)) {
    throw new Error(`"${entry}" is neither a CIDR, an IP address nor a host name`);
  }
  return { host: entry.toLowerCase() };
}

export class AddressGuard {
  private readonly cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  private readonly hosts: string[] = [];

  constructor(allowTargets: readonly string[] = [], private readonly resolver: Resolver = hostResolver.resolve) {
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

  private allowed(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    return this.cidrs.some(([range, bits]) => address.kind() === range.kind() && address.match(range, bits));
  }

  /**
   * Why `address` may not be contacted, as "X is …" would end (e.g. "a
   * loopback address"), or undefined when it may.
   */
  refusalFor(address: string): string | undefined {
    const parsed = parseAddress(address);
    if (!parsed) return 'not an IP address';
    if (this.allowed(parsed)) return undefined;
    if (parsed.kind() === 'ipv4') {
      const range = parsed.range();
      return range === 'unicast' ? undefined : `${RANGE_NAMES[range] ?? `a ${range}`} address`;
    }
    const v6 = parsed as ipaddr.IPv6;
    const v4 = embeddedIPv4(v6);
    if (v4) {
      const refusal = this.refusalFor(v4.toString());
      return refusal && `an IPv6 form of ${v4.toString()}, ${refusal}`;
    }
    const range = v6.range();
    if (range !== 'unicast') return `${RANGE_NAMES[range] ?? `a ${range}`} address`;
    // Deprecated (RFC 4291) and delivered to the IPv4 address by some stacks.
    if (v6.parts.slice(0, 6).every((part) => part === 0)) return 'an IPv4-compatible IPv6 address';
    if (!v6.match(GLOBAL_UNICAST_V6)) return 'an address outside the global unicast range 2000::/3';
    return undefined;
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
    if (parseAddress(host)) {
      // The tenant typed this address: naming it tells nothing new.
      const refusal = this.refusalFor(host);
      if (refusal) return { ok: false, code: 'FORBIDDEN_TARGET', message: `${host} is ${refusal}, which hookgraph does not deliver to (see HOOKGRAPH_ALLOW_TARGETS).` };
      return { ok: true, url, addresses: [host] };
    }
    let addresses: string[];
    try {
      addresses = await this.resolver(host);
    } catch {
      return { ok: false, code: 'INVALID_URL', message: `The host "${host}" does not resolve (or not within ${DNS_DEADLINE_MS / 1000}s).` };
    }
    if (addresses.length === 0) return { ok: false, code: 'INVALID_URL', message: `The host "${host}" does not resolve.` };
    if (addresses.some((address) => this.refusalFor(address))) {
      return { ok: false, code: 'FORBIDDEN_TARGET', message: `The host "${host}" ${RESOLVES_TO_FORBIDDEN}, which hookgraph does not deliver to (see HOOKGRAPH_ALLOW_TARGETS).` };
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
    const literal = parseAddress(host) !== undefined;
    const resolved = literal ? Promise.resolve([host]) : this.resolver(host);
    resolved.then(
      (addresses) => {
        if (!this.hostAllowed(host)) {
          for (const address of addresses) {
            const refusal = this.refusalFor(address);
            if (refusal) return callback(new BlockedAddressError(`refused to connect to ${host}: ${literal ? `${host} is ${refusal}` : `it ${RESOLVES_TO_FORBIDDEN}`}`), '', 0);
          }
        }
        if (addresses.length === 0) return callback(Object.assign(new Error(`${host} has no addresses`), { code: 'ENOTFOUND' }), '', 0);
        const entries = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
        if (options.all) callback(null, entries);
        else callback(null, entries[0].address, entries[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
