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

  @Field(() => ID, { nullable: true, description: 'A subscription whose patterns, filter and payload query to use (the ones given below take their place).' })
  id?: string | null;

  @Field(() => String, { nullable: true, description: 'A payload query to try instead of the saved one.' })
  payloadQuery?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'A filter to try instead of the saved one.' })
  filter?: unknown;
}

@ObjectType({ description: 'Result of webhookSubscriptionPreview.' })
export class WebhookSubscriptionPreviewPayload {
  @Field(() => Boolean, { nullable: true, description: "Whether the event would be delivered (the subscription's patterns, when an id is given, and the filter); null when userErrors is not empty." })
  matches!: boolean | null;

  @Field(() => String, { nullable: true, description: 'The body it is (or would be) sent with, byte for byte, shaped by the payload query; `id` and `timestamp` are made up for the preview. Null when userErrors is not empty.' })
  body!: string | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success.' })
  userErrors!: UserError[];
}
