import { PGBOSS_SCHEMA } from '../delivery/queue.js';
import type { Sql } from './db.js';

/**
 * Reads of pg-boss's own tables (pg-boss writes them; hookgraph only looks):
 * the backlog gauge of /metrics.
 */

/** Per queue: the earliest start_after among due jobs waiting to be fetched (created, or pg-boss retry). */
const OLDEST_DUE = `
  select q.name, extract(epoch from now() - least(
           (select min(j.start_after) from ${PGBOSS_SCHEMA}.job j where j.name = q.name and j.state = 'created' and not j.blocked and j.start_after <= now()),
           (select min(j.start_after) from ${PGBOSS_SCHEMA}.job j where j.name = q.name and j.state = 'retry' and not j.blocked and j.start_after <= now())
         ))::float8 as seconds
    from unnest($1::text[]) as q(name)`;

/** Seconds since the oldest due, not yet fetched job of each queue became due (null: none waiting). */
export async function oldestDueSeconds(db: Sql, queues: readonly string[]): Promise<{ name: string; seconds: number | null }[]> {
  const { rows } = await db.query<{ name: string; seconds: number | null }>(OLDEST_DUE, [queues]);
  return rows;
}
