import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config/config.js';
import { DeliveryStatus } from '../domain/entities/Delivery.js';
import type { Db, Tx } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import { enqueue, queueFor, type DeliveryJobV1 } from './jobs.js';

export type RetryResult = { ok: true } | { ok: false; code: 'NOT_FOUND' | 'INVALID_STATE'; message: string };

/** Most deliveries one `webhookSubscriptionReplay` call queues again. */
export const MAX_REPLAY = 10_000;

/**
 * Manual retry and replay. A FAILED (or finished, for replay) delivery gets
 * one more attempt now, as the last step of its schedule (the subscription's
 * own, else the server's): if it fails it is FAILED again rather than
 * starting hours of retries. A RETRYING delivery's pending attempt is moved
 * to now.
 */
export class DeliveryOperations {
  constructor(private readonly options: { db: Db; boss: PgBoss; config: Config }) {}

  async retry(tenantId: string, deliveryId: string): Promise<RetryResult> {
    const { boss } = this.options;
    return this.options.db.transaction(async (tx) => {
      const row = await deliveries.lockForRetry(tx, tenantId, deliveryId);
      if (!row) return { ok: false, code: 'NOT_FOUND', message: 'No delivery with this id.' };
      if (row.status === DeliveryStatus.RETRYING) {
        // A delivery's jobs stay in the queue they were made in, whatever the subscription's ordering says now.
        const now = new Date();
        let found = 0;
        for (const name of new Set([queueFor(false, row.id), queueFor(true, row.id), queueFor(true, row.id, row.orderingKey)])) {
          const jobs = await boss.findJobs<DeliveryJobV1>(name, { data: { d: row.id }, queued: true, db: tx.jobs });
          for (const job of jobs) await boss.update(name, undefined, { id: job.id, startAfter: now, db: tx.jobs });
          found += jobs.length;
        }
        if (found === 0) return { ok: false, code: 'INVALID_STATE', message: 'An attempt of this delivery is in progress.' };
        await deliveries.attemptNow(tx, row.id);
        return { ok: true };
      }
      if (row.status !== DeliveryStatus.FAILED) {
        return { ok: false, code: 'INVALID_STATE', message: `Only FAILED or RETRYING deliveries can be retried; this one is ${row.status}.` };
      }
      await this.requeue(tx, [row]);
      return { ok: true };
    });
  }

  /** Queues the subscription's finished deliveries created in [since, until) again; returns how many. */
  async replay(tenantId: string, subscriptionId: string, since: Date, until: Date, onlyFailed: boolean): Promise<number> {
    return this.options.db.transaction(async (tx) => {
      const statuses = onlyFailed ? [DeliveryStatus.FAILED] : [DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED];
      const rows = await deliveries.lockForReplay(tx, tenantId, subscriptionId, statuses, since, until, MAX_REPLAY);
      await this.requeue(tx, rows);
      return rows.length;
    });
  }

  private async requeue(tx: Tx, rows: readonly deliveries.RequeueRow[]): Promise<void> {
    if (rows.length === 0) return;
    await deliveries.markRequeued(tx, rows);
    await enqueue(
      this.options.boss,
      tx,
      rows.map((r) => ({
        deliveryId: r.id,
        attemptCount: r.attemptCount,
        // The schedule the worker decides the attempt's outcome by: the subscription's own, else the server's.
        scheduleIndex: (r.retrySchedule ?? this.options.config.retrySchedule).length - 1,
        webhookSubscriptionId: r.webhookSubscriptionId,
        ...requeueOrdering(r),
        requeue: randomUUID(),
      })),
      { verify: true },
    );
  }
}

/**
 * How a re-queued delivery is ordered, by the subscription's settings now:
 * `ordered` behind the subscription's key; keyed behind the key value it was
 * published with (a delivery published without one is not ordered); else not
 * at all. Its new job joins the end of its key's queue.
 */
export function requeueOrdering(row: deliveries.RequeueRow): { ordered: boolean; orderingKey: string | null } {
  if (row.ordered) return { ordered: true, orderingKey: null };
  if (row.keyed && row.orderingKey) return { ordered: true, orderingKey: row.orderingKey };
  return { ordered: false, orderingKey: null };
}
