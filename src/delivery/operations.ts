import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config/config.js';
import { DeliveryStatus } from '../domain/entities/Delivery.js';
import { announce } from '../live/announce.js';
import { deliveryMessage, type DeliveryRow } from './claim.js';
import { randomUUID } from 'node:crypto';
import { byQueue, queueFor, type DeliveryJobTarget, type DeliveryJobV1 } from './jobs.js';
import { bossDb, inTransaction } from './transaction.js';
import { uuidv7Floor } from '../domain/ids.js';

export type RetryResult = { ok: true } | { ok: false; code: 'NOT_FOUND' | 'INVALID_STATE'; message: string };

/** Most deliveries one `webhookSubscriptionReplay` call queues again. */
export const MAX_REPLAY = 10_000;

/** The delivery columns the worker also loads, plus the subscription's current `ordered` flag. */
type Row = Pick<DeliveryRow, 'id' | 'tenant_id' | 'event_id' | 'webhook_subscription_id' | 'status' | 'attempt_count'> & { ordered: boolean };

/**
 * Manual retry and replay. A FAILED (or finished, for replay) delivery gets
 * one more attempt now, as the last step of the schedule: if it fails it is
 * FAILED again rather than starting hours of retries. A RETRYING delivery's
 * pending attempt is moved to now.
 */
export class DeliveryOperations {
  constructor(private readonly options: { pool: Pool; boss: PgBoss; config: Config }) {}

  async retry(tenantId: string, deliveryId: string): Promise<RetryResult> {
    const { boss } = this.options;
    return inTransaction(this.options.pool, async (client) => {
      const { rows } = await client.query<Row>(
        `select d.id, d.tenant_id, d.event_id, d.webhook_subscription_id, d.status, d.attempt_count, s.ordered
           from delivery d join webhook_subscription s on s.id = d.webhook_subscription_id
          where d.id = $1 and d.tenant_id = $2 for update of d`,
        [deliveryId, tenantId],
      );
      const row = rows[0];
      if (!row) return { ok: false, code: 'NOT_FOUND', message: 'No delivery with this id.' };
      if (row.status === DeliveryStatus.RETRYING) {
        // A delivery's jobs stay in the queue they were made in, whatever the subscription's `ordered` says now.
        const now = new Date();
        let found = 0;
        for (const name of new Set([queueFor(row.ordered, row.id), queueFor(!row.ordered, row.id)])) {
          const jobs = await boss.findJobs<DeliveryJobV1>(name, { data: { d: row.id }, queued: true, db: bossDb(client) });
          for (const job of jobs) await boss.update(name, undefined, { id: job.id, startAfter: now, db: bossDb(client) });
          found += jobs.length;
        }
        if (found === 0) return { ok: false, code: 'INVALID_STATE', message: 'An attempt of this delivery is in progress.' };
        await client.query('update delivery set next_attempt_at = now(), updated_at = now() where id = $1', [row.id]);
        return { ok: true };
      }
      if (row.status !== DeliveryStatus.FAILED) {
        return { ok: false, code: 'INVALID_STATE', message: `Only FAILED or RETRYING deliveries can be retried; this one is ${row.status}.` };
      }
      await this.requeue(client, [row]);
      return { ok: true };
    });
  }

  /** Queues the subscription's finished deliveries created in [since, until) again; returns how many. */
  async replay(tenantId: string, subscriptionId: string, since: Date, until: Date, onlyFailed: boolean): Promise<number> {
    return inTransaction(this.options.pool, async (client) => {
      const statuses = onlyFailed ? [DeliveryStatus.FAILED] : [DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED];
      const { rows } = await client.query<Row>(
        `select d.id, d.tenant_id, d.event_id, d.webhook_subscription_id, d.status, d.attempt_count, s.ordered
           from delivery d join webhook_subscription s on s.id = d.webhook_subscription_id
          where d.webhook_subscription_id = $1 and d.tenant_id = $2 and d.status = any($3::text[])
            and d.created_at >= $4 and d.created_at < $5
            and d.id >= $7::uuid and d.id < $8::uuid
          order by d.id limit $6 for update of d`,
        // Ids are UUIDv7: the id range (a minute wider, for clock skew) walks the (subscription, id) index.
        [subscriptionId, tenantId, statuses, since, until, MAX_REPLAY, uuidv7Floor(new Date(since.getTime() - 60_000)), uuidv7Floor(new Date(until.getTime() + 60_000))],
      );
      await this.requeue(client, rows);
      return rows.length;
    });
  }

  private async requeue(client: import('pg').PoolClient, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    await client.query(
      `update delivery set status = 'PENDING', next_attempt_at = now(), updated_at = now() where id = any($1::uuid[])`,
      [rows.map((r) => r.id)],
    );
    const lastStep = this.options.config.retrySchedule.length - 1;
    const targets: DeliveryJobTarget[] = rows.map((r) => ({
      deliveryId: r.id,
      attemptCount: r.attempt_count,
      scheduleIndex: lastStep,
      webhookSubscriptionId: r.webhook_subscription_id,
      ordered: r.ordered,
      requeue: randomUUID(),
    }));
    for (const [name, jobs] of byQueue(targets)) {
      const ids = await this.options.boss.insert(name, jobs, { db: bossDb(client), returnId: true });
      // A job that was not inserted would leave its delivery PENDING forever: fail (and roll back) instead.
      if ((ids?.length ?? 0) !== jobs.length) throw new Error(`queued ${ids?.length ?? 0} of ${jobs.length} delivery jobs in ${name}`);
    }
    await announce(client, rows.map((r) => deliveryMessage(r, DeliveryStatus.PENDING, r.attempt_count)));
  }
}
