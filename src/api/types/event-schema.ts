import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { UserError } from '../errors.js';
import { JSONScalar } from './scalars.js';

@ObjectType({ description: "The tenant's event schema: one `Subscription` field per event type, typed from its JSON Schema. Payload queries are written against it." })
export class EventSchema {
  @Field({ description: 'The event schema as SDL, e.g. to generate receiver types with graphql-codegen.' })
  sdl!: string;
}

@InputType({ description: "What to try: an event, and the subscription's filter and payload query (saved ones by id, or given here)." })
export class WebhookSubscriptionPreviewInput {
  @Field({ description: 'Event type name of the event to try.' })
  eventType!: string;

  @Field(() => JSONScalar, { description: 'The payload to try.' })
  payload!: unknown;

  @Field(() => ID, { nullable: true, description: 'A subscription whose status, patterns, filter and payload query to use (patterns, filter or payload query given in this input take the saved ones\' place).' })
  id?: string | null;

  @Field(() => [String], { nullable: true, description: "Event type names or patterns to try instead of the saved ones (without an id and without these: every event type)." })
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true, description: 'A payload query to try instead of the saved one.' })
  payloadQuery?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'A filter to try instead of the saved one.' })
  filter?: unknown;
}

@ObjectType({ description: 'Result of webhookSubscriptionPreview.' })
export class WebhookSubscriptionPreviewPayload {
  @Field(() => Boolean, { description: "Whether the event would be delivered: the subscription is ENABLED (when an id is given), its patterns match the event type and the filter matches the event; false when userErrors is not empty." })
  matches!: boolean;

  @Field(() => String, { nullable: true, description: 'Why the event would not be delivered (the subscription is not ENABLED, the patterns or the filter do not match); null when it would be, or when userErrors is not empty.' })
  reason!: string | null;

  @Field(() => String, { nullable: true, description: 'The body it is (or would be) sent with, byte for byte, shaped by the payload query; `id` and `timestamp` are made up for the preview. Null when userErrors is not empty, or when a delivery that would not be made anyway (matches false) would be too large shaped.' })
  body!: string | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success.' })
  userErrors!: UserError[];
}
