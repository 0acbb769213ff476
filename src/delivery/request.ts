import { createSecretKey, type KeyObject } from 'node:crypto';
import { signingSecretBytes } from '../domain/secrets.js';
import { asDate } from './dates.js';
import { validSigningSecrets } from '../domain/subscription-secrets.js';
import type { OutgoingRequest } from './sender.js';
import { webhookHeaders } from './signing.js';

/** What the worker needs of a subscription to sign and address a delivery. */
export interface SubscriptionTarget {
  url: string;
  headers: Record<string, string> | null;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | string | null;
}

/**
 * Opened signing secrets, cached by their sealed form: a rotation changes the
 * sealed text, so entries never go stale; a previous secret's expiry is
 * checked on every use.
 */
export class SecretCache {
  private readonly entries = new Map<string, { secrets: KeyObject[]; validUntil: number }>();

  constructor(private readonly secretKey: Buffer, private readonly maxEntries = 10_000) {}

  /** HMAC keys (imported once: importing a raw key per signature showed in profiles). */
  secretsFor(target: SubscriptionTarget, now: number): KeyObject[] {
    const expires = asDate(target.previous_secret_expires_at)?.getTime();
    const key = `${target.secret_encrypted}|${target.previous_secret_encrypted ?? ''}|${expires ?? ''}`;
    const cached = this.entries.get(key);
    if (cached && cached.validUntil > now) return cached.secrets;
    const secrets = validSigningSecrets(target, this.secretKey, new Date(now)).map((plain) => {
      const bytes = signingSecretBytes(plain);
      if (!bytes) throw new Error('a stored signing secret is malformed');
      return createSecretKey(bytes);
    });
    const validUntil = expires !== undefined && expires > now ? expires : Number.POSITIVE_INFINITY;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { secrets, validUntil });
    return secrets;
  }
}

/**
 * The HTTP request of one attempt: custom headers first, then hookgraph's own
 * (which custom headers may not override), with the attempt span's
 * `traceparent` when tracing is on. The body is the event's stored wire body,
 * byte for byte.
 */
export function buildRequest(target: SubscriptionTarget, secrets: readonly KeyObject[], eventId: string, body: string, userAgent: string, nowMs: number, traceparent?: string): OutgoingRequest {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    url: target.url,
    body,
    headers: {
      ...(target.headers ?? {}),
      'content-type': 'application/json',
      'user-agent': userAgent,
      ...webhookHeaders(secrets, eventId, timestamp, body),
      ...(traceparent ? { traceparent } : {}),
    },
  };
}

/** Request headers as stored on the attempt: everything that was sent except custom header values that look secret. */
export function recordedHeaders(headers: Record<string, string>, custom: Record<string, string> | null): Record<string, string> {
  const recorded: Record<string, string> = { ...headers };
  for (const name of Object.keys(custom ?? {})) {
    if (/authorization|token|secret|key|cookie|password/i.test(name)) recorded[name] = '[redacted]';
  }
  return recorded;
}
