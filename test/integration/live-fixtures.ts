import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { LiveMessage } from '../../src/live/messages.js';
import { announce } from '../helpers/announce.js';
import { uuidv7 } from '../../src/domain/ids.js';

/**
 * Rows written the way the delivery engine writes them (status change and
 * announce in one transaction), so live tests do not depend on timing of
 * real HTTP deliveries. End-to-end tests live in live-e2e.test.ts.
 */
export class LiveFixtures {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<LiveFixtures> {
    const client = new pg.Client({ connectionString: url });
    // The test app drops its database (terminating this connection) when the file ends.
    client.on('error', () => undefined);
    await client.connect();
    return new LiveFixtures(client);
  }

  close(): Promise<void> {
    return this.client.end();
  }

  async subscription(tenantId: string): Promise<string> {
    const id = uuidv7();
    await this.client.query(
      `insert into webhook_subscription (id, tenant_id, url, event_types, headers, status, secret_encrypted, ordered, created_at, updated_at)
       values ($1, $2, 'https://example.com/hook', '{*}', '{}', 'ENABLED', 'sealed', false, now(), now())`,
      [id, tenantId],
    );
    return id;
  }

  async event(tenantId: string, eventType = 'order.created', data: unknown = { n: 1 }): Promise<string> {
    const id = uuidv7();
    const body = JSON.stringify({ id, type: eventType, timestamp: new Date().toISOString(), data });
    await this.client.query(`insert into event (id, tenant_id, event_type, body, occurred_at, created_at) values ($1, $2, $3, $4, now(), now())`, [id, tenantId, eventType, body]);
    return id;
  }

  /** A PENDING delivery of a new event to `subscriptionId`. */
  async delivery(tenantId: string, subscriptionId: string, eventId?: string): Promise<{ id: string; eventId: string }> {
    const event = eventId ?? (await this.event(tenantId));
    const id = uuidv7();
    await this.client.query(
      `insert into delivery (id, tenant_id, event_id, webhook_subscription_id, status, attempt_count, created_at, updated_at)
       values ($1, $2, $3, $4, 'PENDING', 0, now(), now())`,
      [id, tenantId, event, subscriptionId],
    );
    return { id, eventId: event };
  }

  /** Changes a delivery's status and announces it in the same transaction, like the worker. */
  async setStatus(deliveryId: string, status: string, attemptCount: number, lastError: string | null = null): Promise<void> {
    await this.client.query('begin');
    const { rows } = await this.client.query(
      `update delivery set status = $2, attempt_count = $3, last_error = $4, updated_at = clock_timestamp() where id = $1
       returning tenant_id, event_id, webhook_subscription_id`,
      [deliveryId, status, attemptCount, lastError],
    );
    const row = rows[0];
    await announce(this.client, [
      { kind: 'delivery', tenantId: row.tenant_id, id: deliveryId, eventId: row.event_id, webhookSubscriptionId: row.webhook_subscription_id, status, attemptCount },
    ]);
    await this.client.query('commit');
  }

  async setSubscriptionStatus(subscriptionId: string, status: string): Promise<void> {
    await this.client.query('begin');
    const { rows } = await this.client.query(`update webhook_subscription set status = $2, updated_at = now() where id = $1 returning tenant_id`, [subscriptionId, status]);
    await announce(this.client, [{ kind: 'webhookSubscription', tenantId: rows[0].tenant_id, id: subscriptionId, status }]);
    await this.client.query('commit');
  }

  async publish(tenantId: string, eventType: string): Promise<string> {
    await this.client.query('begin');
    const id = await this.event(tenantId, eventType);
    await announce(this.client, [{ kind: 'event', tenantId, id, eventType }]);
    await this.client.query('commit');
    return id;
  }

  raw(messages: LiveMessage[]): Promise<void> {
    return announce(this.client, messages);
  }
}

export const someId = () => randomUUID();
