import { CompiledQuery, type Kysely } from 'kysely';
import type { ConnectionOptions } from 'pg-boss';
import type { Em, Orm } from '../db/orm.js';
import type { LiveMessage } from '../live/messages.js';
import { commitStatement } from './notify.js';

/**
 * How the store reaches PostgreSQL: through MikroORM, on its one pool. `em`
 * where the unit of work fits (management CRUD); raw statements through the
 * Kysely instance MikroORM runs on (`em.getKysely()`, bound to the current
 * transaction) for the tuned statements of the hot paths. Statements use `$1`
 * placeholders, as `pg` does; nothing outside `src/store/` writes any.
 */
export interface Rows<R> {
  rows: R[];
  /** Rows changed by an insert, update or delete; rows returned otherwise. */
  rowCount: number;
}

/** Anything that runs a statement: the pool (`Db`) or one transaction (`Tx`). */
export interface Sql {
  query<R = any>(text: string, values?: readonly unknown[]): Promise<Rows<R>>;
}

/** pg-boss's view of a connection: jobs sent through a transaction's commit or roll back with it. */
export type JobsDb = NonNullable<ConnectionOptions['db']>;

/** One open transaction: every write path gets one, from `Db.transaction`. */
export interface Tx extends Sql {
  /** The unit of work bound to this transaction; flushed just before COMMIT. */
  readonly em: Em;
  /** Pass as pg-boss's `db` option, so the jobs join this transaction. */
  readonly jobs: JobsDb;
  /** Queues live messages; they go out with the COMMIT (PostgreSQL delivers them only if it commits). */
  announce(...messages: readonly LiveMessage[]): void;
  /** Runs `callback` once the transaction is over: `true` if it committed, `false` if it rolled back (or the COMMIT failed). */
  onSettled(callback: (committed: boolean) => void): void;
}

export interface TransactionOptions {
  /**
   * `false` commits without waiting for the WAL flush: only for worker
   * bookkeeping, where a commit lost in a PostgreSQL crash means the job runs
   * again (a duplicate delivery, which at-least-once allows), never a lost
   * event. Any later durable commit flushes it too (the WAL is written in order).
   */
  durable?: boolean;
  /**
   * Runs `body` again, up to this many times, when PostgreSQL aborts the
   * transaction for a deadlock (40P01) or a serialization failure (40001): for
   * bodies that can run twice (they keep their results inside the body).
   */
  conflictRetries?: number;
}

const CONFLICT_CODES = new Set(['40P01', '40001']);

function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && CONFLICT_CODES.has(code);
}

async function run<R>(kysely: Kysely<any>, text: string, values: readonly unknown[]): Promise<Rows<R>> {
  const result = await kysely.executeQuery<R>(CompiledQuery.raw(text, values as unknown[]));
  return { rows: result.rows, rowCount: result.numAffectedRows !== undefined ? Number(result.numAffectedRows) : result.rows.length };
}

class Transaction implements Tx {
  private readonly messages: LiveMessage[] = [];
  readonly settled: ((committed: boolean) => void)[] = [];
  readonly jobs: JobsDb = { executeSql: (text: string, values?: unknown[]) => this.query(text, values) };

  constructor(
    readonly em: Em,
    private readonly connection: Kysely<any>,
  ) {}

  query<R = any>(text: string, values: readonly unknown[] = []): Promise<Rows<R>> {
    return run<R>(this.connection, text, values);
  }

  announce(...messages: readonly LiveMessage[]): void {
    for (const message of messages) this.messages.push(message);
  }

  onSettled(callback: (committed: boolean) => void): void {
    this.settled.push(callback);
  }

  /**
   * COMMIT, preceded by the queued NOTIFYs in the same simple query (one
   * round trip): an error in one aborts the rest, so nothing commits unannounced.
   */
  async commit(): Promise<void> {
    await this.query(commitStatement(this.messages));
  }
}

/** The database as the rest of hookgraph sees it: reads on the pool, writes in `transaction`. */
export class Db implements Sql {
  constructor(readonly orm: Orm) {}

  query<R = any>(text: string, values: readonly unknown[] = []): Promise<Rows<R>> {
    return run<R>(this.orm.em.getConnection().getClient(), text, values);
  }

  /** One round trip: the readiness probe's check that the database answers. */
  async ping(): Promise<void> {
    await this.query('select 1');
  }

  /** A fresh identity map outside any transaction (GraphQL requests read through one). */
  em(): Em {
    return this.orm.em.fork();
  }

  /**
   * Runs `body` in one transaction: committed (with its announcements and the
   * unit of work's changes) if it returns, rolled back if it throws. The
   * transaction holds one connection of MikroORM's pool; `tx.em` is bound to
   * it. BEGIN and COMMIT are sent by hand so that each shares its round trip
   * with what must go with it (the commit mode, the NOTIFYs): the worker's
   * lock-step batches wait for every round trip.
   */
  async transaction<T>(body: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let retries = options.conflictRetries ?? 0; ; retries--) {
      try {
        return await this.transactionOnce(body, options);
      } catch (error) {
        if (retries <= 0 || !isConflict(error)) throw error;
      }
    }
  }

  private transactionOnce<T>(body: (tx: Tx) => Promise<T>, options: TransactionOptions): Promise<T> {
    return this.orm.em
      .getConnection()
      .getClient()
      .connection()
      .execute(async (connection) => {
        await run(connection, options.durable === false ? 'begin; set local synchronous_commit = off' : 'begin', []);
        const em = this.orm.em.fork();
        em.setTransactionContext(connection as never);
        const tx = new Transaction(em, connection);
        let result: T;
        try {
          result = await body(tx);
          await em.flush();
          await tx.commit();
        } catch (error) {
          await run(connection, 'rollback', []).catch(() => undefined);
          for (const callback of tx.settled) callback(false);
          throw error;
        } finally {
          em.resetTransactionContext();
        }
        for (const callback of tx.settled) callback(true);
        return result;
      });
  }
}

/** The database server's clock now (epoch ms). */
export async function databaseClockMs(db: Sql): Promise<number> {
  const { rows } = await db.query<{ ms: string }>('select (extract(epoch from clock_timestamp()) * 1000)::bigint as ms');
  return Number(rows[0].ms);
}
