import { createSecretKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { signingSecretBytes } from '../domain/secrets.js';
import { openHeaders } from '../domain/subscription-headers.js';
import { validSigningSecrets } from '../domain/subscription-secrets.js';
import type { OutgoingRequest } from './sender.js';
import { webhookHeaders } from './signing.js';

/** What the worker needs of a subscription to sign and address a delivery. */
export interface SubscriptionTarget {
  webhookSubscriptionId: string;
  url: string;
  /** Names to sealed values (see domain/subscription-headers.ts). */
  headers: Record<string, string> | null;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
}

/**
 * Subscriptions whose opened secrets and headers a worker keeps (each kind).
 * One entry per subscription being delivered to, a few hundred bytes each
 * (two HMAC keys, a handful of header values): 10,000 covers every
 * subscription a busy worker sends to in a while for a few MB, and a miss
 * only costs opening the sealed values again.
 */
export const SECRET_CACHE_ENTRIES = 10_000;

/**
 * Opened signing secrets and custom header values, cached by their sealed
 * form and row id: a rotation or an update changes the sealed text, so
 * entries never go stale; a previous secret's expiry is checked on every use.
 */
export class SecretCache {
  private readonly entries = new LRUCache<string, { secrets: KeyObject[]; validUntil: number }>({ max: SECRET_CACHE_ENTRIES });
  private readonly headerEntries = new LRUCache<string, Record<string, string>>({ max: SECRET_CACHE_ENTRIES });

  constructor(private readonly secretKey: Buffer) {}

  /** HMAC keys (imported once: importing a raw key per signature showed in profiles). */
  secretsFor(target: SubscriptionTarget, now: number): KeyObject[] {
    const expires = target.previousSecretExpiresAt?.getTime();
    const key = `${target.webhookSubscriptionId}|${target.secretEncrypted}|${target.previousSecretEncrypted ?? ''}|${expires ?? ''}`;
    const cached = this.entries.get(key);
    if (cached && cached.validUntil > now) return cached.secrets;
    const secrets = validSigningSecrets(target, this.secretKey, new Date(now)).map((plain) => {
      const bytes = signingSecretBytes(plain);
      if (!bytes) throw new Error('a stored signing secret is malformed');
      return createSecretKey(bytes);
    });
    const validUntil = expires !== undefined && expires > now ? expires : Number.POSITIVE_INFINITY;
    this.entries.set(key, { secrets, validUntil });
    return secrets;
  }

  /** The custom headers to send, opened. */
  headersFor(target: SubscriptionTarget): Record<string, string> {
    if (!target.headers || Object.keys(target.headers).length === 0) return {};
    const key = `${target.webhookSubscriptionId}|${JSON.stringify(target.headers)}`;
    let headers = this.headerEntries.get(key);
    if (!headers) {
      headers = openHeaders(this.secretKey, target.webhookSubscriptionId, target.headers);
      this.headerEntries.set(key, headers);
    }
    return headers;
  }
}

/**
 * The HTTP request of one attempt: custom headers first, then hookgraph's own
 * (which custom headers may not override), with the attempt span's
 * `traceparent` when tracing is on. The body is the event's stored wire body,
 * byte for byte.
 */
export function buildRequest(
  target: SubscriptionTarget,
  secrets: readonly KeyObject[],
  customHeaders: Readonly<Record<string, string>>,
  eventId: string,
  body: string,
  userAgent: string,
  nowMs: number,
  traceparent?: string,
): OutgoingRequest {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    url: target.url,
    body,
    headers: {
      ...customHeaders,
      'content-type': 'application/json',
      'user-agent': userAgent,
      ...webhookHeaders(secrets, eventId, timestamp, body),
      ...(traceparent ? { traceparent } : {}),
    },
  };
}

/** W3C trace context: version, trace id, span id, flags; such a value carries no secret. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Headers hookgraph sets itself on every delivery; any other header of a request is a subscription's custom header. */
const OWN_HEADERS: ReadonlySet<string> = new Set(['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);

/**
 * Request headers as recorded on an attempt, and as read back: hookgraph's
 * own as sent (signatures included), every other value `[redacted]`: custom
 * header values are secrets (invariant 11), whatever their name. Applied on
 * read too, so attempts recorded before every custom value was redacted do
 * not show them either.
 */
export function recordedHeaders(headers: Readonly<Record<string, string>>, traced = false): Record<string, string> {
  // A traced attempt's `traceparent` is hookgraph's own (it replaces a custom one); untraced, it is a custom value.
  const own = (name: string, value: string) => OWN_HEADERS.has(name) || (traced && name === 'traceparent' && TRACEPARENT.test(value));
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, own(name, value) ? value : '[redacted]']));
}
