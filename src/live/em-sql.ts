import { fromKysely } from 'pg-boss';
import type { Em } from '../db/orm.js';
import type { SqlExecutor } from '../db/sql.js';

/** Runs plain SQL (`$1` placeholders) in the transaction of `em`, e.g. to `announce()` inside `em.transactional`. */
export function emSql(em: Em): SqlExecutor {
  const db = fromKysely(em.getKysely());
  return {
    async query(text, values) {
      const { rows } = await db.executeSql(text, values);
      return { rows, rowCount: rows.length };
    },
  };
}
