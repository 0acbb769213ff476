import type { ClientBase } from 'pg';
import type { LiveMessage } from '../../src/live/messages.js';
import { notifyStatement } from '../../src/store/notify.js';

/** Sends live messages on `client` with the store's NOTIFY statement (inside the client's transaction, they leave at its commit). */
export async function announce(client: ClientBase, messages: readonly LiveMessage[]): Promise<void> {
  const statement = notifyStatement(messages);
  if (statement) await client.query(statement.text, statement.values);
}
