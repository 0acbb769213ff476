import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';
import { uuidv7 } from '../ids.js';
import { Tenant } from './Tenant.js';

/** A kind of event (`order.created`) with an optional JSON Schema for its payloads. */
@Entity({ tableName: 'event_type' })
@Unique({ properties: ['tenant', 'name'] })
export class EventType {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @Property({ type: 'json', nullable: true })
  schema?: unknown;

  @Property({ type: 'timestamptz', nullable: true })
  archivedAt?: Date | null;

  /** The store's `create` stamps it with the database's clock: event schema names follow creation order. */
  @Property({ type: 'timestamptz' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
