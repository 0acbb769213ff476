import { escapeLiteral, type ClientBase } from 'pg';
import { LIVE_CHANNEL, packMessages, type LiveMessage } from '../live/messages.js';

/**
 * The live channel's statements: NOTIFY (sent by `Tx` with its COMMIT), and
 * LISTEN plus the heartbeat on the listener's own connection.
 */

/** One statement sending every message, in as few NOTIFYs as the payload limit allows; undefined when there are none. */
export function notifyStatement(messages: readonly LiveMessage[]): { text: string; values: unknown[] } | undefined {
  if (messages.length === 0) return undefined;
  return { text: 'select pg_notify($1, payload) from unnest($2::text[]) as payload', values: [LIVE_CHANNEL, packMessages(messages)] };
}

/** COMMIT, preceded by one NOTIFY per packed chunk, as one simple query (no parameters, hence the literals). */
export function commitStatement(messages: readonly LiveMessage[]): string {
  if (messages.length === 0) return 'commit';
  const channel = escapeLiteral(LIVE_CHANNEL);
  return `${packMessages(messages).map((payload) => `select pg_notify(${channel}, ${escapeLiteral(payload)});`).join(' ')} commit`;
}

/** Starts listening on the dedicated connection; returns the server's clock. */
export async function listen(client: ClientBase): Promise<Date> {
  await client.query(`listen ${LIVE_CHANNEL}`);
  return serverTime(client);
}

/** The heartbeat: a round trip that also gives the server's clock (resyncs start from it). */
export async function serverTime(client: ClientBase): Promise<Date> {
  const { rows } = await client.query<{ now: Date }>('select now() as now');
  return rows[0].now;
}
