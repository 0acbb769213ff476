import { CompiledQuery, type Kysely } from 'kysely';
import type { ConnectionOptions } from 'pg-boss';
import type { Em, Orm } from '../db/orm.js';
import type { LiveMessage } from '../live/messages.js';
import { notifyStatement } from './notify.js';

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
  /** The unit of work bound to this transaction; flushed before it commits. */
  readonly em: Em;
  /** Pass as pg-boss's `db` option, so the jobs join this transaction. */
  readonly jobs: JobsDb;
  /** Queues live messages; they are sent just before COMMIT (PostgreSQL delivers them only if it commits). */
  announce(...messages: readonly LiveMessage[]): void;
}

export interface TransactionOptions {
  /**
   * `false` commits without waiting for the WAL flush: only for worker
   * bookkeeping, where a commit lost in a PostgreSQL crash means the job runs
   * again (a duplicate delivery, which at-least-once allows), never a lost
   * event. Any later durable commit flushes it too (the WAL is written in order).
   */
  durable?: boolean;
}

async function run<R>(kysely: Kysely<any>, text: string, values: readonly unknown[]): Promise<Rows<R>> {
  const result = await kysely.executeQuery<R>(CompiledQuery.raw(text, values as unknown[]));
  return { rows: result.rows, rowCount: result.numAffectedRows !== undefined ? Number(result.numAffectedRows) : result.rows.length };
}

class Transaction implements Tx {
  private readonly messages: LiveMessage[] = [];
  readonly jobs: JobsDb = { executeSql: (text: string, values?: unknown[]) => this.query(text, values) };

  constructor(readonly em: Em) {}

  query<R = any>(text: string, values: readonly unknown[] = []): Promise<Rows<R>> {
    return run<R>(this.em.getKysely(), text, values);
  }

  announce(...messages: readonly LiveMessage[]): void {
    for (const message of messages) this.messages.push(message);
  }

  /** The queued NOTIFYs, in one statement; an error here rolls the transaction back, so nothing commits unannounced. */
  async sendAnnouncements(): Promise<void> {
    const statement = notifyStatement(this.messages);
    if (statement) await this.query(statement.text, statement.values);
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

  /** Runs `body` in one transaction: committed (with its announcements) if it returns, rolled back if it throws. */
  transaction<T>(body: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.orm.em.fork().transactional(async (em) => {
      const tx = new Transaction(em);
      if (options.durable === false) await tx.query('set local synchronous_commit = off');
      const result = await body(tx);
      // MikroORM flushes the unit of work after this; both are inside the transaction, so the order does not matter.
      await tx.sendAnnouncements();
      return result;
    });
  }
}
