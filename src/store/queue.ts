import { createHash } from 'node:crypto';
import type { Sql, Tx } from './db.js';

/**
 * pg-boss's own tables (pg-boss writes them): the backlog gauge of /metrics,
 * and the one write hookgraph makes itself, pulling the jobs of a closed
 * circuit forward.
 */

/** pg-boss keeps its tables in its own schema and migrates them itself. */
export const PGBOSS_SCHEMA = 'pgboss';

/** pg-boss's NOTIFY channel for a schema, as its `notifyChannelSql` computes it in SQL (payload: the queue name). */
export function pgBossChannel(schema: string): string {
  const name = /^".*"$/.test(schema) ? schema.slice(1, -1) : schema;
  return `pgboss_${createHash('sha224').update(name).digest('hex').slice(0, 24)}`;
}

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

/**
 * The subscriptions' circuits closed: their waiting jobs in `queues` (created,
 * or ordered ones in pg-boss's retry state; a job's pg-boss group is its
 * subscription) become due now, and every worker is woken through pg-boss's
 * NOTIFY channel when the transaction commits. Left alone: jobs deferred to
 * a rate-limit slot or by the in-flight share (`r` set without `c`), whose
 * time is theirs. Reads the future-dated jobs of the queues (index on state
 * and start_after; group_id has no index outside the active state) — once
 * per closing circuit. Returns the deliveries of the jobs moved.
 */
export async function pullForward(tx: Tx, subscriptionIds: readonly string[], queues: readonly string[]): Promise<string[]> {
  if (subscriptionIds.length === 0) return [];
  const { rows } = await tx.query<{ name: string; deliveryId: string }>(
    `update ${PGBOSS_SCHEMA}.job set start_after = now()
      where name = any($1::text[]) and state in ('created', 'retry') and start_after > now() and group_id = any($2::text[])
        and (data->>'r' is null or data->>'c' is not null)
      returning name, data->>'d' as "deliveryId"`,
    [queues, subscriptionIds],
  );
  const names = [...new Set(rows.map((r) => r.name))];
  if (names.length) await tx.query('select pg_notify($1, name) from unnest($2::text[]) as q(name)', [pgBossChannel(PGBOSS_SCHEMA), names]);
  return rows.map((r) => r.deliveryId);
}
