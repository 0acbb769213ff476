import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type * as events from '../../store/events.js';
import { UserError } from '../errors.js';
import { JSONScalar } from './scalars.js';

@ObjectType({ description: 'One published message. Its payload is stored once and sent byte-identical to every subscription, on every attempt.' })
export class Event {
  @Field(() => ID, { description: 'Also the `webhook-id` header of every delivery of this event.' })
  id!: string;

  @Field({ description: "Name of the event's type; the `type` of the body." })
  eventType!: string;

  @Field(() => String, { nullable: true, description: 'The idempotency key given on publish; null when none.' })
  idempotencyKey!: string | null;

  @Field({ description: 'When it happened, as given on publish (default: the publish time); the `timestamp` of the body.' })
  occurredAt!: Date;

  @Field({ description: 'When hookgraph accepted the event.' })
  createdAt!: Date;

  /** The stored wire body `{"id","type","timestamp","data"}`; `payload` is read from it. */
  body!: string;

  static from(row: events.EventRow): Event {
    return Object.assign(new Event(), {
      id: row.id,
      eventType: row.eventType,
      idempotencyKey: row.idempotencyKey,
      occurredAt: row.occurredAt,
      createdAt: row.createdAt,
      body: row.body,
    });
  }
}

@InputType({ description: 'One event to publish.' })
export class EventPublishInput {
  @Field({ description: 'Name of an existing, not archived event type.' })
  eventType!: string;

  @Field(() => JSONScalar, { description: 'Any JSON value, at most HOOKGRAPH_MAX_PAYLOAD_BYTES serialized; validated against the event type\'s schema.' })
  payload!: unknown;

  @Field(() => String, { nullable: true, description: '1–255 characters; publishing again with the same key within 24 h returns the original event and creates nothing.' })
  idempotencyKey?: string | null;

  @Field(() => Date, { nullable: true, description: 'When it happened (default: now); sent as `timestamp` in the body.' })
  occurredAt?: Date | null;
}

@InputType({ description: 'A batch of events to publish in one transaction.' })
export class EventsPublishInput {
  @Field(() => [EventPublishInput], { description: 'Up to 500 events; one bad event rejects the whole batch.' })
  events!: EventPublishInput[];
}

@InputType({ description: 'All given conditions must hold.' })
export class EventFilter {
  @Field(() => [String], { nullable: true, description: 'Only these event types (exact names).' })
  eventTypes?: string[] | null;

  @Field(() => Date, { nullable: true, description: 'Only events created at or after this time.' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only events created before this time.' })
  until?: Date | null;
}

@ObjectType({ description: 'Result of eventPublish.' })
export class EventPublishPayload {
  @Field(() => Event, { nullable: true, description: 'The published event, or the original one for a repeated idempotency key; null when userErrors is not empty.' })
  event?: Event | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was published.' })
  userErrors!: UserError[];
}

@ObjectType({ description: 'Result of eventsPublish.' })
export class EventsPublishPayload {
  @Field(() => [Event], { nullable: true, description: 'In input order; a repeated idempotency key gives the original event.' })
  events?: Event[] | null;

  @Field(() => [UserError], { description: "Problems with the input, each naming the event's index; empty on success, otherwise nothing was published." })
  userErrors!: UserError[];
}
