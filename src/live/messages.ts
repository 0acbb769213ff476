/**
 * What live updates carry between processes: one message per change, ids and
 * status only (never payloads or secrets), on one NOTIFY channel that every
 * api process listens to. The store announces each change in the
 * transaction that makes it (`tx.announce`), so nothing is announced that did
 * not commit; the builders below are the only places a message is made.
 */

export const LIVE_CHANNEL = 'hookgraph_live';

export type LiveMessage =
  | { kind: 'delivery'; tenantId: string; id: string; eventId: string; webhookSubscriptionId: string; status: string; attemptCount: number }
  | { kind: 'webhookSubscription'; tenantId: string; id: string; status: string }
  | { kind: 'event'; tenantId: string; id: string; eventType: string }
  | { kind: 'apiKeyRevoked'; tenantId: string; id: string };

/** A delivery's status or attempt count changed (or it was created, PENDING). */
export function deliveryChanged(d: { tenantId: string; id: string; eventId: string; webhookSubscriptionId: string }, status: string, attemptCount: number): LiveMessage {
  return { kind: 'delivery', tenantId: d.tenantId, id: d.id, eventId: d.eventId, webhookSubscriptionId: d.webhookSubscriptionId, status, attemptCount };
}

/** A subscription's status or circuit changed (a resync re-sends any subscription changed meanwhile); `status` is its status now. */
export function subscriptionChanged(s: { tenantId: string; id: string }, status: string): LiveMessage {
  return { kind: 'webhookSubscription', tenantId: s.tenantId, id: s.id, status };
}

/** An event was published. */
export function eventPublished(e: { tenantId: string; id: string; eventType: string }): LiveMessage {
  return { kind: 'event', tenantId: e.tenantId, id: e.id, eventType: e.eventType };
}

/** An api key was revoked: its open sockets close. */
export function apiKeyRevoked(k: { tenantId: string; id: string }): LiveMessage {
  return { kind: 'apiKeyRevoked', tenantId: k.tenantId, id: k.id };
}

/** PostgreSQL's limit is 8000 bytes per payload; stay well below it. */
export const MAX_NOTIFY_BYTES = 7000;

/** Packs messages into JSON arrays of at most MAX_NOTIFY_BYTES each. */
export function packMessages(messages: readonly LiveMessage[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const message of messages) {
    const text = JSON.stringify(message);
    if (current.length && size + text.length + 1 > MAX_NOTIFY_BYTES) {
      chunks.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length) chunks.push(`[${current.join(',')}]`);
  return chunks;
}
