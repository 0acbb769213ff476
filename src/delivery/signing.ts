import { createHmac, type KeyObject } from 'node:crypto';

/**
 * Standard Webhooks 1.0 signatures: `v1,` + base64 HMAC-SHA256 over
 * `{webhook-id}.{webhook-timestamp}.{body}` with the secret's raw bytes.
 * During a rotation every valid secret signs, space-separated, so a receiver
 * holding either secret verifies.
 */
export function sign(secret: Buffer | KeyObject, id: string, timestamp: number, body: string): string {
  return 'v1,' + createHmac('sha256', secret).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

export function signatureHeader(secrets: readonly (Buffer | KeyObject)[], id: string, timestamp: number, body: string): string {
  return secrets.map((secret) => sign(secret, id, timestamp, body)).join(' ');
}

/** The three Standard Webhooks headers for one attempt. */
export function webhookHeaders(secrets: readonly (Buffer | KeyObject)[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, id, timestamp, body),
  };
}
