import { CompiledQuery } from 'kysely';
import type { Em } from './orm.js';
import type { SqlExecutor } from './sql.js';

/**
 * A SqlExecutor (`$1` placeholders, as with `pg`) that runs on an
 * EntityManager's connection — inside `em.transactional(async (tem) => …)`
 * pass `tem`, and the statements join that transaction (e.g. `announce`,
 * whose NOTIFY must leave only on commit). Kysely is the layer MikroORM 7
 * runs on; `getKysely()` is bound to the current transaction.
 */
export function emSql(em: Em): SqlExecutor {
  return {
    async query(text, values = []) {
      const result = await em.getKysely().executeQuery(CompiledQuery.raw(text, values as unknown[]));
      const rows = result.rows as any[];
      return { rows, rowCount: result.numAffectedRows !== undefined ? Number(result.numAffectedRows) : rows.length };
    },
  };
}
