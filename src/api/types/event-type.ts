import { MutationWarning } from './webhook-subscription.js';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type { EventType as EventTypeEntity } from '../../domain/entities/EventType.js';
import type { SystemEventType } from '../../domain/operational-events.js';
import { UserError } from '../errors.js';
import { JSONScalar } from './scalars.js';

@ObjectType({ description: 'A kind of event, e.g. `order.created`, with an optional JSON Schema for its payloads.' })
export class EventType {
  @Field(() => ID, { description: 'Unique id of the event type.' })
  id!: string;

  @Field({ description: 'Lowercase dot-separated segments, unique in the tenant.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Free text for people, at most 1000 characters; null when none.' })
  description!: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'JSON Schema (draft-07) every published payload must satisfy; null accepts any payload.' })
  schema!: unknown;

  @Field({ description: 'Archived types reject new events; their history stays.' })
  archived!: boolean;

  @Field(() => Date, { nullable: true, description: 'When the type was archived; null while it accepts events.' })
  archivedAt!: Date | null;

  @Field({ description: "True for hookgraph's own event types (`hookgraph.*`): every tenant has them, hookgraph publishes them about the tenant's webhook health, and they cannot be created, changed or archived. Only patterns naming `hookgraph` (e.g. `hookgraph.*`) receive them; `*` does not." })
  system!: boolean;

  @Field({ description: 'When the event type was created.' })
  createdAt!: Date;

  @Field({ description: 'When the event type was last changed.' })
  updatedAt!: Date;

  static from(entity: EventTypeEntity | SystemEventType): EventType {
    return Object.assign(new EventType(), {
      id: entity.id,
      name: entity.name,
      description: entity.description ?? null,
      schema: entity.schema ?? null,
      archived: !!entity.archivedAt,
      archivedAt: entity.archivedAt ?? null,
      system: 'system' in entity && entity.system === true,
      createdAt: entity.createdAt,
      updatedAt: entity.updatedAt,
    });
  }
}

@InputType({ description: 'The event type to create.' })
export class EventTypeCreateInput {
  @Field({ description: 'Lowercase dot-separated segments, e.g. `billing.invoice.paid`; at most 128 characters and 16 segments.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Free text for people, at most 1000 characters.' })
  description?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'JSON Schema (draft-07) for payloads.' })
  schema?: unknown;
}

@InputType({ description: 'Fields left out stay as they are; null clears description or schema.' })
export class EventTypeUpdateInput {
  @Field({ description: 'The event type to change.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'New free text, at most 1000 characters; null clears it.' })
  description?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'New JSON Schema (draft-07) for payloads published from now on; null accepts any payload.' })
  schema?: unknown;

  @Field(() => Boolean, { nullable: true, description: 'false restores an archived type.' })
  archived?: boolean | null;
}

@InputType({ description: 'The event type to archive.' })
export class EventTypeArchiveInput {
  @Field({ description: 'Name of the event type to archive.' })
  name!: string;
}

@ObjectType({ description: 'Result of eventTypeCreate, eventTypeUpdate or eventTypeArchive.' })
export class EventTypePayload {
  @Field(() => EventType, { nullable: true, description: 'The event type as it is now; null when userErrors is not empty.' })
  eventType?: EventType | null;

  @Field(() => [MutationWarning], { description: 'Things accepted that affect something else, e.g. payload queries that select a field the new schema no longer has; may be present on success.' })
  warnings!: MutationWarning[];

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}
