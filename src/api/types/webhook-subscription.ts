import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { WebhookSubscription as WebhookSubscriptionEntity, WebhookSubscriptionStatus } from '../../domain/entities/WebhookSubscription.js';
import { maskHeaders } from '../../domain/subscription-headers.js';
import { formatDelay, MAX_SCHEDULE_DELAY_MS, MAX_SCHEDULE_ENTRIES } from '../../delivery/retry-policy.js';
import { CircuitState, circuitState } from '../../delivery/circuit.js';
import { UserError } from '../errors.js';
import { JSONScalar } from './scalars.js';

registerEnumType(WebhookSubscriptionStatus, {
  name: 'WebhookSubscriptionStatus',
  description: 'ENABLED receives deliveries; DISABLED was switched off by a client; FAILING_DISABLED was switched off by hookgraph after failing too long.',
  valuesConfig: {
    ENABLED: { description: 'Receives deliveries of every matching event.' },
    DISABLED: { description: 'Switched off by a client, or by hookgraph when the receiver answered 410 Gone; receives nothing.' },
    FAILING_DISABLED: { description: 'Switched off by hookgraph after every delivery failed for HOOKGRAPH_DISABLE_AFTER (default 5 days); receives nothing.' },
  },
});

registerEnumType(CircuitState, {
  name: 'CircuitState',
  description: "The subscription's circuit breaker: after HOOKGRAPH_CIRCUIT_FAILURES (default 10) failed attempts in a row it opens, and its deliveries wait while single probes test the receiver.",
  valuesConfig: {
    CLOSED: { description: 'Deliveries flow.' },
    OPEN: { description: 'Deliveries wait (RETRYING, attempt count unchanged) until the next probe; the wait doubles after each failed probe, from 5 s up to 5 min.' },
    HALF_OPEN: { description: 'One probe delivery is being attempted; if it succeeds the circuit closes and the waiting deliveries are sent at once.' },
  },
});

@ObjectType({ description: "A subscription's circuit breaker." })
export class WebhookSubscriptionCircuit {
  @Field(() => CircuitState, { description: 'CLOSED, OPEN or HALF_OPEN.' })
  state!: CircuitState;

  @Field(() => Date, { nullable: true, description: 'When the circuit opened; null while CLOSED.' })
  openedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the next probe is due (the waiting deliveries show it as their nextAttemptAt); while HALF_OPEN, when the one after the probe in flight goes should it fail. Null while CLOSED.',
  })
  nextProbeAt!: Date | null;
}

@ObjectType({ description: 'A receiver of webhooks. Its signing secret is shown only on create and on rotation.' })
export class WebhookSubscription {
  @Field(() => ID, { description: 'Unique id of the subscription.' })
  id!: string;

  @Field({ description: 'The http(s) url every delivery is POSTed to.' })
  url!: string;

  @Field(() => [String], { description: 'Exact event type names or patterns: `order.*` (one or more segments below order), `*.created` (one segment), `*` (everything).' })
  eventTypes!: string[];

  @Field(() => String, { nullable: true, description: 'Free text for people, at most 1000 characters; null when none.' })
  description!: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Payload filter, matched against the delivered body {"id", "type", "timestamp", "data"} (so payload fields are under "data."); null delivers every event.' })
  filter!: unknown;

  @Field(() => JSONScalar, { description: 'Custom request headers sent with every delivery (names in lowercase), every value masked as "********": values are secrets, stored encrypted and never returned.' })
  headers!: Record<string, string>;

  @Field(() => JSONScalar, { nullable: true, description: 'Free JSON stored for the client, at most 16 KiB; null when none.' })
  metadata!: unknown;

  @Field(() => WebhookSubscriptionStatus, { description: 'Whether the subscription receives deliveries, and who switched it off.' })
  status!: WebhookSubscriptionStatus;

  @Field(() => String, { nullable: true, description: 'Why the subscription is disabled, when it is.' })
  disabledReason!: string | null;

  @Field(() => Int, { nullable: true, description: 'At most this many deliveries per second; null: no limit.' })
  rateLimitPerSecond!: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "At most this many of its deliveries in flight at once per worker process; null: the worker's HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT (default 64), which also caps it. Its other deliveries wait without holding up other subscriptions.",
  })
  maxInFlight!: number | null;

  @Field(() => String, {
    nullable: true,
    description: "GraphQL subscription document against the tenant's event schema (`eventSchema.sdl`) that shapes the `data` of deliveries of the event types it selects; others are delivered whole. Null: every delivery carries the whole payload.",
  })
  payloadQuery!: string | null;

  @Field(() => [String], {
    nullable: true,
    description: "Delay before each attempt, in the syntax of HOOKGRAPH_RETRY_SCHEDULE (`0`, `200ms`, `5s`, `5m`, `2h`, `1d`, each ±20 % jitter); its length is the number of attempts before a delivery is FAILED. Null: the server's schedule.",
  })
  retrySchedule!: string[] | null;

  @Field({ description: 'Deliveries are sent one at a time, in publish order.' })
  ordered!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'Dotted path into the delivered body (the shaped one under a payloadQuery), e.g. `data.orderId`: deliveries with the same value there are sent one at a time in publish order, a retry holding back only the later ones of that value; different values go in parallel; deliveries without a value there are not ordered. Null: no per-key order.',
  })
  orderingKey!: string | null;

  @Field(() => Date, { nullable: true, description: 'While a rotated secret is still valid: when it stops being valid (deliveries carry both signatures until then).' })
  secretRotationExpiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When a delivery to it last succeeded (to within a second); null when none has.' })
  lastSuccessAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Start of the current run of failures without a success.' })
  failingSince!: Date | null;

  @Field(() => WebhookSubscriptionCircuit, { description: 'The circuit breaker: whether deliveries flow, or wait for a probe to succeed.' })
  circuit!: WebhookSubscriptionCircuit;

  @Field({ description: 'When the subscription was created.' })
  createdAt!: Date;

  @Field({ description: 'When the subscription was last changed, by a client or by hookgraph disabling it.' })
  updatedAt!: Date;

  /** The GraphQL view of an entity; never carries secrets. */
  static from(entity: WebhookSubscriptionEntity, now: Date = new Date()): WebhookSubscription {
    const rotationEnds = entity.previousSecretExpiresAt ?? null;
    return Object.assign(new WebhookSubscription(), {
      id: entity.id,
      url: entity.url,
      eventTypes: entity.eventTypes,
      description: entity.description ?? null,
      filter: entity.filter ?? null,
      headers: maskHeaders(entity.headers),
      metadata: entity.metadata ?? null,
      status: entity.status,
      disabledReason: entity.disabledReason ?? null,
      rateLimitPerSecond: entity.rateLimitPerSecond ?? null,
      maxInFlight: entity.maxInFlight ?? null,
      payloadQuery: entity.payloadQuery ?? null,
      retrySchedule: entity.retrySchedule ? entity.retrySchedule.map(formatDelay) : null,
      ordered: entity.ordered,
      orderingKey: entity.orderingKey ?? null,
      secretRotationExpiresAt: rotationEnds && rotationEnds.getTime() > now.getTime() ? rotationEnds : null,
      lastSuccessAt: entity.lastSuccessAt ?? null,
      failingSince: entity.failingSince ?? null,
      circuit: circuitOf(entity, now.getTime()),
      createdAt: entity.createdAt,
      updatedAt: entity.updatedAt,
    });
  }
}

function circuitOf(entity: WebhookSubscriptionEntity, now: number): WebhookSubscriptionCircuit {
  const state = circuitState(entity, now);
  return Object.assign(new WebhookSubscriptionCircuit(), {
    state,
    openedAt: state === CircuitState.CLOSED ? null : (entity.circuitOpenedAt ?? null),
    nextProbeAt: state === CircuitState.CLOSED ? null : (entity.circuitNextProbeAt ?? null),
  });
}

@InputType({ description: 'The subscription to create.' })
export class WebhookSubscriptionCreateInput {
  @Field({ description: 'http(s) url; its host must resolve to public addresses (see HOOKGRAPH_ALLOW_TARGETS).' })
  url!: string;

  @Field(() => [String], { description: 'Event type names or patterns (`order.*`, `*`), 1–100.' })
  eventTypes!: string[];

  @Field(() => String, { nullable: true, description: 'Free text for people, at most 1000 characters.' })
  description?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Payload filter, matched against the delivered body {"id", "type", "timestamp", "data"}, e.g. {"data.amount": {"$gte": 100}} or {"type": {"$in": ["order.paid"]}}.' })
  filter?: unknown;

  @Field(() => JSONScalar, { nullable: true, description: 'Custom request headers, an object of names to string values; the values are stored encrypted and never shown again.' })
  headers?: unknown;

  @Field(() => JSONScalar, { nullable: true, description: 'Free JSON for the client (at most 16 KiB).' })
  metadata?: unknown;

  @Field(() => String, { nullable: true, description: 'A `whsec_` secret to use; generated when left out.' })
  secret?: string | null;

  @Field(() => WebhookSubscriptionStatus, { nullable: true, description: 'ENABLED (default) or DISABLED.' })
  status?: WebhookSubscriptionStatus | null;

  @Field(() => Int, { nullable: true, description: '1..10000 deliveries per second; null: no limit.' })
  rateLimitPerSecond?: number | null;

  @Field(() => Int, { nullable: true, description: "1..1000 deliveries in flight at once per worker process (capped by the worker's HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT); null: that default." })
  maxInFlight?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'GraphQL subscription document against `eventSchema.sdl`, e.g. `subscription { orderCreated { orderId total } }` (one named operation per event type to shape); validated when saved. Null or blank clears it.',
  })
  payloadQuery?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: `Delay before each attempt (e.g. ["0", "10s", "1m"]: three attempts), in the syntax of HOOKGRAPH_RETRY_SCHEDULE; 1–${MAX_SCHEDULE_ENTRIES} entries of at most ${formatDelay(MAX_SCHEDULE_DELAY_MS)} each. Null: the server's schedule.`,
  })
  retrySchedule?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Deliver one at a time in publish order (default false).' })
  ordered?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Dotted path into the delivered body, e.g. `data.orderId` (at most 200 characters, starting with id, type, timestamp or data): deliveries with the same value there go one at a time in publish order, different values in parallel. Cannot be combined with ordered: true. Null or blank: none.' })
  orderingKey?: string | null;
}

@InputType({ description: 'Fields left out stay as they are; null clears description, filter, metadata, headers, rateLimitPerSecond, maxInFlight and retrySchedule.' })
export class WebhookSubscriptionUpdateInput {
  @Field(() => ID, { description: 'Id of the subscription to change.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'New http(s) url; its host must resolve to public addresses (see HOOKGRAPH_ALLOW_TARGETS).' })
  url?: string | null;

  @Field(() => [String], { nullable: true, description: 'New event type names or patterns, 1–100; replaces the whole list.' })
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true, description: 'New free text, at most 1000 characters; null clears it.' })
  description?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'New payload filter, matched against the delivered body as on create; null delivers every event.' })
  filter?: unknown;

  @Field(() => JSONScalar, { nullable: true, description: 'Replaces the custom headers: names left out are removed; a value of "********" keeps the stored value of that header (so the masked headers read back can be sent again).' })
  headers?: unknown;

  @Field(() => JSONScalar, { nullable: true, description: 'New free JSON for the client, at most 16 KiB; null clears it.' })
  metadata?: unknown;

  @Field(() => WebhookSubscriptionStatus, { nullable: true, description: 'ENABLED or DISABLED; enabling a FAILING_DISABLED subscription resets its failure state.' })
  status?: WebhookSubscriptionStatus | null;

  @Field(() => Int, { nullable: true, description: '1..10000 deliveries per second; null: no limit.' })
  rateLimitPerSecond?: number | null;

  @Field(() => Int, { nullable: true, description: "1..1000 deliveries in flight at once per worker process (capped by the worker's HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT); null: that default." })
  maxInFlight?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'GraphQL subscription document against `eventSchema.sdl`, e.g. `subscription { orderCreated { orderId total } }` (one named operation per event type to shape); validated when saved. Null or blank clears it.',
  })
  payloadQuery?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: `Delay before each attempt (e.g. ["0", "10s", "1m"]: three attempts), in the syntax of HOOKGRAPH_RETRY_SCHEDULE; 1–${MAX_SCHEDULE_ENTRIES} entries of at most ${formatDelay(MAX_SCHEDULE_DELAY_MS)} each. Null: the server's schedule.`,
  })
  retrySchedule?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Deliver one at a time in publish order.' })
  ordered?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Dotted path into the delivered body, e.g. `data.orderId` (at most 200 characters, starting with id, type, timestamp or data): deliveries with the same value there go one at a time in publish order, different values in parallel. Cannot be combined with ordered: true. Null or blank clears it; deliveries already queued keep the order they were queued with.' })
  orderingKey?: string | null;
}

@InputType({ description: 'The subscription to delete.' })
export class WebhookSubscriptionDeleteInput {
  @Field(() => ID, { description: 'Id of the subscription to delete.' })
  id!: string;
}

@InputType({ description: 'The subscription whose signing secret to replace, and for how long the previous one stays valid.' })
export class WebhookSubscriptionRotateSecretInput {
  @Field(() => ID, { description: 'Id of the subscription whose secret is replaced.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'A `whsec_` secret to use; generated when left out.' })
  secret?: string | null;

  @Field(() => Int, { nullable: true, description: 'How long the previous secret stays valid, 0..604800 seconds (default 86400, 24 h).' })
  gracePeriodSeconds?: number | null;
}

@ObjectType({ description: 'Something accepted but probably not meant, e.g. a pattern that matches no event type.' })
export class MutationWarning {
  @Field(() => [String], { nullable: true, description: 'Path to the input field it is about, e.g. ["input", "eventTypes", "0"].' })
  field!: string[] | null;

  @Field({ description: 'What looks wrong, in English, for people.' })
  message!: string;

  @Field({ description: 'UNMATCHED_PATTERN (a pattern that matches no event type yet) or PAYLOAD_QUERY_AFFECTED (an event type change left a saved payload query selecting fields that are gone).' })
  code!: string;
}

@ObjectType({ description: 'Result of webhookSubscriptionCreate: the subscription and its signing secret, or userErrors.' })
export class WebhookSubscriptionCreatePayload {
  @Field(() => WebhookSubscription, { nullable: true, description: 'The new subscription; null when userErrors is not empty.' })
  webhookSubscription?: WebhookSubscription | null;

  @Field(() => String, { nullable: true, description: 'The signing secret (`whsec_…`); shown only here.' })
  secret?: string | null;

  @Field(() => [MutationWarning], { description: 'Things accepted but probably not meant; may be present on success.' })
  warnings!: MutationWarning[];

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}

@ObjectType({ description: 'Result of webhookSubscriptionUpdate.' })
export class WebhookSubscriptionPayload {
  @Field(() => WebhookSubscription, { nullable: true, description: 'The subscription as it is now; null when userErrors is not empty.' })
  webhookSubscription?: WebhookSubscription | null;

  @Field(() => [MutationWarning], { description: 'Things accepted but probably not meant; may be present on success.' })
  warnings!: MutationWarning[];

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}

@ObjectType({ description: 'Result of webhookSubscriptionDelete.' })
export class WebhookSubscriptionDeletePayload {
  @Field(() => ID, { nullable: true, description: 'Id of the deleted subscription; null when userErrors is not empty.' })
  deletedWebhookSubscriptionId?: string | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}

@ObjectType({ description: 'Result of webhookSubscriptionRotateSecret: the subscription and its new signing secret, or userErrors.' })
export class WebhookSubscriptionRotateSecretPayload {
  @Field(() => WebhookSubscription, { nullable: true, description: 'The subscription with its new `secretRotationExpiresAt`; null when userErrors is not empty.' })
  webhookSubscription?: WebhookSubscription | null;

  @Field(() => String, { nullable: true, description: 'The new signing secret; shown only here.' })
  secret?: string | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}
