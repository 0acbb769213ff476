import type { Pool, PoolClient } from 'pg';
import type { ConnectionOptions } from 'pg-boss';
import { LIVE_CHANNEL, announce, packMessages, type LiveMessage } from '../live/announce.js';

type IDatabase = NonNullable<ConnectionOptions['db']>;

/**
 * Runs `body` in one transaction on a pooled client; rolls back on any error.
 * `durable: false` commits without waiting for the WAL flush: only for worker
 * bookkeeping, where a commit lost in a PostgreSQL crash means the job runs
 * again (a duplicate delivery, which at-least-once allows), never a lost event.
 * Any later durable commit flushes it too, since the WAL is written in order.
 */
export async function inTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  const messages: LiveMessage[] = [];
  atCommit.set(client, messages);
  try {
    await client.query(options.durable === false ? 'begin; set local synchronous_commit = off' : 'begin');
    const result = await body(client);
    await client.query(commitStatement(client, messages));
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    atCommit.delete(client);
    client.release();
  }
}

/** Live messages of each open `inTransaction`, queued until its COMMIT. */
const atCommit = new WeakMap<PoolClient, LiveMessage[]>();

/**
 * Announces `messages` when the client's transaction commits. Inside
 * `inTransaction` they are queued and go out with the COMMIT in one round
 * trip (PostgreSQL only delivers notifications at commit anyway); on any
 * other client they are announced at once.
 */
export async function announceAtCommit(client: PoolClient, messages: readonly LiveMessage[]): Promise<void> {
  const queued = atCommit.get(client);
  if (queued) queued.push(...messages);
  else await announce(client, messages);
}

/** COMMIT, preceded by the queued NOTIFYs in the same simple query: an error in one aborts the rest, so nothing commits unannounced. */
function commitStatement(client: PoolClient, messages: readonly LiveMessage[]): string {
  if (messages.length === 0) return 'commit';
  const channel = client.escapeLiteral(LIVE_CHANNEL);
  return `${packMessages(messages).map((payload) => `select pg_notify(${channel}, ${client.escapeLiteral(payload)});`).join(' ')} commit`;
}

/** pg-boss's view of a client: jobs sent through it join the client's transaction. */
export function bossDb(client: PoolClient): IDatabase {
  return { executeSql: (text: string, values?: unknown[]) => client.query(text, values) };
}

/** A worker bookkeeping transaction (claims, outcomes): see `durable` above. */
export function inWorkerTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, body, { durable: false });
}
