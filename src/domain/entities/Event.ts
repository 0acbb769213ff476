import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';
import { uuidv7 } from '../ids.js';
import { Tenant } from './Tenant.js';

/**
 * One published message. The wire body (`{"id","type","timestamp","data"}`) is
 * serialized once at publish and stored as text, so every attempt to every
 * subscription sends the same bytes; the payload is read back from it.
 */
@Entity({ tableName: 'event' })
@Index({ properties: ['tenant', 'id'] })
@Index({ properties: ['tenant', 'eventType', 'id'] })
@Index({ name: 'event_tenant_idempotency_key_unique', expression: 'create unique index "event_tenant_idempotency_key_unique" on "event" ("tenant_id", "idempotency_key") where "idempotency_key" is not null' })
export class Event {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @Property({ type: 'text' })
  eventType!: string;

  /** Exact request body sent to receivers. */
  @Property({ type: 'text' })
  body!: string;

  @Property({ type: 'text', nullable: true })
  idempotencyKey?: string | null;

  @Property({ type: 'timestamptz' })
  occurredAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz' })
  createdAt: Date & Opt = new Date();

  /** W3C traceparent of the publish span, set only when tracing is on; each attempt's span continues it. */
  @Property({ type: 'text', nullable: true })
  traceparent?: string | null;
}
