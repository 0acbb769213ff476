import type { Pool, PoolClient } from 'pg';
import type { ConnectionOptions } from 'pg-boss';

type IDatabase = NonNullable<ConnectionOptions['db']>;

/** Runs `body` in one transaction on a pooled client; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
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
