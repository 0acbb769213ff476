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

/** One event to one subscription. */
@Entity({ tableName: 'delivery' })
@Index({ properties: ['tenant', 'id'] })
@Index({ properties: ['webhookSubscription', 'status', 'id'] })
@Index({ properties: ['event'] })
@Index({ properties: ['status', 'updatedAt'] })
export class Delivery {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
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

  @Property({ type: 'timestamptz' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date & Opt = new Date();
}
