import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';
import { uuidv7 } from '../ids.js';
import { Tenant } from './Tenant.js';
import { Event } from './Event.js';
import { WebhookSubscription } from './WebhookSubscription.js';

export enum DeliveryStatus {
  PENDING = 'PENDING',
  SENDING = 'SENDING',
  SUCCEEDED = 'SUCCEEDED',
  RETRYING = 'RETRYING',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/**
 * One event to one subscription.
 *
 * A delivery changes status two or three times within milliseconds of its
 * insert, so its B-tree indexes hold only values that do not change on the
 * way PENDING → SENDING → SUCCEEDED: such a status change is a HOT update (no index writes at all), which the table's
 * fillfactor (set in Migration20261130210328_delivery_hot) leaves room for.
 * `updated_at` is only in a BRIN index: PostgreSQL ≥ 16 keeps updates HOT
 * through those. The rare states people look for (FAILED, RETRYING,
 * CANCELLED) are found through partial indexes on `attention`, a generated
 * column that stays false along that way (PostgreSQL compares indexed
 * values, not assigned columns).
 */
@Entity({ tableName: 'delivery' })
@Index({ properties: ['tenant', 'id'] })
@Index({ properties: ['webhookSubscription', 'id'] })
@Index({ properties: ['event'] })
@Index({ name: 'delivery_attention_tenant_id_id_index', properties: ['tenant', 'id'], where: 'attention' })
@Index({ name: 'delivery_attention_webhook_subscription_id_id_index', properties: ['webhookSubscription', 'id'], where: 'attention' })
@Index({
  name: 'delivery_updated_at_brin',
  expression: 'create index "delivery_updated_at_brin" on "delivery" using brin ("updated_at" timestamptz_minmax_multi_ops)',
})
export class Delivery {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  /**
   * No foreign key: the tenant is the event's (publish copies it), and a
   * tenant's deletion reaches its deliveries through the event and the
   * subscription cascades. Saves a key lookup and a row lock per delivery.
   */
  @ManyToOne(() => Tenant, { createForeignKeyConstraint: false })
  tenant!: Tenant;

  @ManyToOne(() => Event, { deleteRule: 'cascade' })
  event!: Event;

  @ManyToOne(() => WebhookSubscription, { deleteRule: 'cascade' })
  webhookSubscription!: WebhookSubscription;

  @Enum({ items: () => DeliveryStatus })
  status: DeliveryStatus & Opt = DeliveryStatus.PENDING;

  @Property({ type: 'integer' })
  attemptCount: number & Opt = 0;

  @Property({ type: 'timestamptz', nullable: true })
  nextAttemptAt?: Date | null;

  @Property({ type: 'integer', nullable: true })
  lastResponseStatus?: number | null;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  /** FAILED, RETRYING or CANCELLED: the deliveries someone may want to look at. Maintained by PostgreSQL. */
  /** The wire body when the subscription's payload query shaped it (null: the event's body), fixed at publish so retries are byte-identical. */
  @Property({ type: 'text', nullable: true, lazy: true })
  body?: string | null;

  /**
   * Hash of the subscription's ordering key value, computed at publish (null: not keyed). A retry
   * or replay queues the delivery under it again, whatever the body's path reads today.
   */
  @Property({ type: 'text', nullable: true })
  orderingKey?: string | null;

  @Property({ type: 'boolean', generated: `(status in ('FAILED', 'RETRYING', 'CANCELLED')) stored` })
  attention?: boolean & Opt;

  @Property({ type: 'timestamptz' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date & Opt = new Date();
}
