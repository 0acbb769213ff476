import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from '../log.js';
import { RETENTION_QUEUE } from './jobs.js';

/** Every hour, at minute 17: small, frequent prunes instead of one large one. */
export const RETENTION_CRON = '17 * * * *';
const CHUNK = 5000;

export interface PruneCounts {
  attempts: number;
  deliveries: number;
  events: number;
}

/**
 * Deletes, in chunks so no statement holds locks for long: attempts started
 * before `cutoff`, finished deliveries (SUCCEEDED, FAILED, CANCELLED) last
 * changed before it, and events older than it that have no delivery left.
 * Deliveries still PENDING/SENDING/RETRYING and their events are kept.
 */
export async function pruneBefore(pool: Pool, cutoff: Date): Promise<PruneCounts> {
  const counts: PruneCounts = { attempts: 0, deliveries: 0, events: 0 };
  const chunked = async (sql: string): Promise<number> => {
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(sql, [cutoff, CHUNK]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < CHUNK) return total;
    }
  };
  counts.attempts = await chunked('delete from delivery_attempt where id in (select id from delivery_attempt where started_at < $1 limit $2)');
  counts.deliveries = await chunked(
    `delete from delivery where id in (select id from delivery where status in ('SUCCEEDED', 'FAILED', 'CANCELLED') and updated_at < $1 limit $2)`,
  );
  counts.events = await chunked(
    'delete from event where id in (select e.id from event e where e.created_at < $1 and not exists (select 1 from delivery d where d.event_id = e.id) limit $2)',
  );
  return counts;
}

/** Schedules the hourly prune and works it (worker and serve roles). */
export async function startRetention(options: { boss: PgBoss; pool: Pool; log: Logger; retentionDays: number }): Promise<void> {
  const { boss, pool, log, retentionDays } = options;
  await boss.schedule(RETENTION_QUEUE, RETENTION_CRON, { v: 1 });
  await boss.work(RETENTION_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
    const cutoff = new Date(Date.now() - retentionDays * 24 * 60 * 60 * 1000);
    const counts = await pruneBefore(pool, cutoff);
    log.info('retention prune', { cutoff: cutoff.toISOString(), ...counts });
  });
}
