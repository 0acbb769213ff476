import type { Pool, PoolClient } from 'pg';
import type { ConnectionOptions } from 'pg-boss';

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
  try {
    await client.query(options.durable === false ? 'begin; set local synchronous_commit = off' : 'begin');
    const result = await body(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** pg-boss's view of a client: jobs sent through it join the client's transaction. */
export function bossDb(client: PoolClient): IDatabase {
  return { executeSql: (text: string, values?: unknown[]) => client.query(text, values) };
}

/** A worker bookkeeping transaction (claims, outcomes): see `durable` above. */
export function inWorkerTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, body, { durable: false });
}
