import type { Sql } from './db.js';

/**
 * Pages of newest-first lists. Ids are UUIDv7, so id order is creation order:
 * a page is "ids below the last one seen, highest first", which stays stable
 * while rows are inserted and runs on the (tenant_id, id) indexes.
 */

/** One page to read: at most `limit` rows with ids strictly below `beforeId` (none for the first page). */
export interface PageQuery {
  limit: number;
  beforeId?: string | undefined;
}

/** Builds `a = $1 and b = $2` from conditions written with `?` placeholders. */
export class SqlWhere {
  readonly values: unknown[] = [];
  private readonly parts: string[] = [];

  add(condition: string, value: unknown): this {
    this.values.push(value);
    this.parts.push(condition.replace('?', `$${this.values.length}`));
    return this;
  }

  /** A condition with no value, written into the SQL as is (e.g. a partial index's predicate, for the planner to match). */
  raw(condition: string): this {
    this.parts.push(condition);
    return this;
  }

  get sql(): string {
    return this.parts.length ? this.parts.join(' and ') : 'true';
  }
}

/** The limit goes into the statement text (a literal lets the planner see it), so it must be a plain count. */
function checkedLimit(page: PageQuery): number {
  if (!Number.isSafeInteger(page.limit) || page.limit < 1) throw new Error(`page limit must be a positive integer, got ${page.limit}`);
  return page.limit;
}

/** `select <columns> from <table> where <where> and id < <beforeId> order by id desc limit <limit>`. */
export async function newestFirst<R>(db: Sql, table: string, columns: string, where: SqlWhere, page: PageQuery): Promise<R[]> {
  if (page.beforeId) where.add('id < ?', page.beforeId);
  const { rows } = await db.query<R>(`select ${columns} from ${table} where ${where.sql} order by id desc limit ${checkedLimit(page)}`, where.values);
  return rows;
}

/** The page's cursor condition for `em.find`: spread it into the filter. */
export function idBelow(page: PageQuery): { id: { $lt: string } } | {} {
  return page.beforeId ? { id: { $lt: page.beforeId } } : {};
}

/** The page's order and size for `em.find`. */
export function newestFirstOptions(page: PageQuery): { orderBy: { id: 'desc' }; limit: number } {
  return { orderBy: { id: 'desc' }, limit: checkedLimit(page) };
}
