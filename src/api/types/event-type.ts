import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type { EventType as EventTypeEntity } from '../../domain/entities/EventType.js';
import { UserError } from '../errors.js';
import { JSONScalar } from './scalars.js';

@ObjectType({ description: 'A kind of event, e.g. `order.created`, with an optional JSON Schema for its payloads.' })
export class EventType {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Lowercase dot-separated segments, unique in the tenant.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'JSON Schema (draft-07) every published payload must satisfy; null accepts any payload.' })
  schema!: unknown;

  @Field({ description: 'Archived types reject new events; their history stays.' })
  archived!: boolean;

  @Field(() => Date, { nullable: true })
  archivedAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  static from(entity: EventTypeEntity): EventType {
    return Object.assign(new EventType(), {
      id: entity.id,
      name: entity.name,
      description: entity.description ?? null,
      schema: entity.schema ?? null,
      archived: !!entity.archivedAt,
      archivedAt: entity.archivedAt ?? null,
      createdAt: entity.createdAt,
      updatedAt: entity.updatedAt,
    });
  }
}

@InputType()
export class EventTypeCreateInput {
  @Field({ description: 'Lowercase dot-separated segments, e.g. `billing.invoice.paid`.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'JSON Schema (draft-07) for payloads.' })
  schema?: unknown;
}

@InputType({ description: 'Fields left out stay as they are; null clears description or schema.' })
export class EventTypeUpdateInput {
  @Field({ description: 'The event type to change.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => JSONScalar, { nullable: true })
  schema?: unknown;

  @Field(() => Boolean, { nullable: true, description: 'false restores an archived type.' })
  archived?: boolean | null;
}

@InputType()
export class EventTypeArchiveInput {
  @Field()
  name!: string;
}

@ObjectType()
export class EventTypePayload {
  @Field(() => EventType, { nullable: true })
  eventType?: EventType | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
