import type { PgBoss } from 'pg-boss';
import type { Logger } from '../log.js';
import * as attempts from '../store/attempts.js';
import type { Db, Tx } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import * as events from '../store/events.js';
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
export async function pruneBefore(db: Db, cutoff: Date): Promise<PruneCounts> {
  const chunked = async (prune: (tx: Tx, cutoff: Date, limit: number) => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      // A transaction per chunk: each commits on its own, and none holds its locks for long.
      const deleted = await db.transaction((tx) => prune(tx, cutoff, CHUNK));
      total += deleted;
      if (deleted < CHUNK) return total;
    }
  };
  return {
    attempts: await chunked(attempts.pruneBefore),
    deliveries: await chunked(deliveries.pruneFinished),
    events: await chunked(events.pruneOrphans),
  };
}

/** Schedules the hourly prune and works it (worker and serve roles). */
export async function startRetention(options: { boss: PgBoss; db: Db; log: Logger; retentionDays: number }): Promise<void> {
  const { boss, db, log, retentionDays } = options;
  await boss.schedule(RETENTION_QUEUE, RETENTION_CRON, { v: 1 });
  await boss.work(RETENTION_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
    const cutoff = new Date(Date.now() - retentionDays * 24 * 60 * 60 * 1000);
    const counts = await pruneBefore(db, cutoff);
    log.info('retention prune', { cutoff: cutoff.toISOString(), ...counts });
  });
}
