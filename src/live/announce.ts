import type { SqlExecutor } from '../db/sql.js';

/**
 * The one NOTIFY channel that carries live changes to every api process.
 * Announce inside the transaction that makes the change: PostgreSQL delivers
 * notifications only on commit, so nothing is announced that did not happen.
 * Messages carry ids and status, never payloads or secrets.
 */
export const LIVE_CHANNEL = 'hookgraph_live';

export type LiveMessage =
  | { kind: 'delivery'; tenantId: string; id: string; eventId: string; webhookSubscriptionId: string; status: string; attemptCount: number }
  | { kind: 'webhookSubscription'; tenantId: string; id: string; status: string }
  | { kind: 'event'; tenantId: string; id: string; eventType: string }
  | { kind: 'apiKeyRevoked'; tenantId: string; id: string };

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

/** Queues the messages for delivery at commit: one statement, as few NOTIFYs as the size limit allows. */
export async function announce(db: SqlExecutor, messages: readonly LiveMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await db.query('select pg_notify($1, payload) from unnest($2::text[]) as payload', [LIVE_CHANNEL, packMessages(messages)]);
}
