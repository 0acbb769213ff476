/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** The subscription's circuit breaker: after HOOKGRAPH_CIRCUIT_FAILURES (default 10) failed attempts in a row it opens, and its deliveries wait while single probes test the receiver. */
export type CircuitState =
  /** Deliveries flow. */
  | 'CLOSED'
  /** One probe delivery is being attempted; if it succeeds the circuit closes and the waiting deliveries are sent at once. */
  | 'HALF_OPEN'
  /** Deliveries wait (RETRYING, attempt count unchanged) until the next probe; the wait doubles after each failed probe, from 5 s up to 5 min. */
  | 'OPEN';

/** All given conditions must hold. */
export type DeliveryFilter = {
  /** Only deliveries created at or after this time. */
  createdSince?: string | null | undefined;
  /** Only deliveries of this event. */
  eventId?: string | number | null | undefined;
  /** Only deliveries in one of these statuses. */
  statuses?: Array<DeliveryStatus> | null | undefined;
  /** Only deliveries to this subscription. */
  webhookSubscriptionId?: string | number | null | undefined;
};

/** PENDING (not tried yet), SENDING (attempt in flight), SUCCEEDED (2xx), RETRYING (failed, next attempt scheduled), FAILED (no more attempts), CANCELLED (subscription no longer enabled). */
export type DeliveryStatus =
  /** Not sent: its subscription was no longer enabled when it came due. */
  | 'CANCELLED'
  /** The last attempt of HOOKGRAPH_RETRY_SCHEDULE failed, or the receiver answered 410 Gone; no more attempts. */
  | 'FAILED'
  /** Waiting for its first attempt, or queued again by a retry or replay. */
  | 'PENDING'
  /** The latest attempt failed; the next one is due at `nextAttemptAt`. */
  | 'RETRYING'
  /** An attempt is in flight. */
  | 'SENDING'
  /** The receiver answered 2xx. */
  | 'SUCCEEDED';

/** One event to publish. */
export type EventPublishInput = {
  /** Name of an existing, not archived event type. */
  eventType: string;
  /** 1–255 characters; publishing again with the same key within 24 h returns the original event and creates nothing. */
  idempotencyKey?: string | null | undefined;
  /** When it happened (default: now); sent as `timestamp` in the body. */
  occurredAt?: string | null | undefined;
  /** Any JSON value, at most HOOKGRAPH_MAX_PAYLOAD_BYTES serialized; validated against the event type's schema. */
  payload: unknown;
};

/** The event type to archive. */
export type EventTypeArchiveInput = {
  /** Name of the event type to archive. */
  name: string;
};

/** The event type to create. */
export type EventTypeCreateInput = {
  /** Free text for people, at most 1000 characters. */
  description?: string | null | undefined;
  /** Lowercase dot-separated segments, e.g. `billing.invoice.paid`; at most 128 characters and 16 segments. */
  name: string;
  /** JSON Schema (draft-07) for payloads. */
  schema?: unknown;
};

/** Fields left out stay as they are; null clears description or schema. */
export type EventTypeUpdateInput = {
  /** false restores an archived type. */
  archived?: boolean | null | undefined;
  /** New free text, at most 1000 characters; null clears it. */
  description?: string | null | undefined;
  /** The event type to change. */
  name: string;
  /** New JSON Schema (draft-07) for payloads published from now on; null accepts any payload. */
  schema?: unknown;
};

/** The subscription to create. */
export type WebhookSubscriptionCreateInput = {
  /** Free text for people, at most 1000 characters. */
  description?: string | null | undefined;
  /** Event type names or patterns (`order.*`, `*`), 1–100. */
  eventTypes: Array<string>;
  /** Payload filter, matched against the delivered body {"id", "type", "timestamp", "data"}, e.g. {"data.amount": {"$gte": 100}} or {"type": {"$in": ["order.paid"]}}. */
  filter?: unknown;
  /** Custom request headers, an object of names to string values; the values are stored encrypted and never shown again. */
  headers?: unknown;
  /** 1..1000 deliveries in flight at once per worker process (capped by the worker's HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT); null: that default. */
  maxInFlight?: number | null | undefined;
  /** Free JSON for the client (at most 16 KiB). */
  metadata?: unknown;
  /** Deliver one at a time in publish order (default false). */
  ordered?: boolean | null | undefined;
  /** Dotted path into the delivered body, e.g. `data.orderId` (at most 200 characters, starting with id, type, timestamp or data): deliveries with the same value there go one at a time in publish order, different values in parallel. Cannot be combined with ordered: true. Null or blank: none. */
  orderingKey?: string | null | undefined;
  /** GraphQL subscription document against `eventSchema.sdl`, e.g. `subscription { orderCreated { orderId total } }` (one named operation per event type to shape); validated when saved. Null or blank clears it. */
  payloadQuery?: string | null | undefined;
  /** 1..10000 deliveries per second; null: no limit. */
  rateLimitPerSecond?: number | null | undefined;
  /** Delay before each attempt (e.g. ["0", "10s", "1m"]: three attempts), in the syntax of HOOKGRAPH_RETRY_SCHEDULE; 1–50 entries of at most 7d each. Null: the server's schedule. */
  retrySchedule?: Array<string> | null | undefined;
  /** A `whsec_` secret to use; generated when left out. */
  secret?: string | null | undefined;
  /** ENABLED (default) or DISABLED. */
  status?: WebhookSubscriptionStatus | null | undefined;
  /** http(s) url; its host must resolve to public addresses (see HOOKGRAPH_ALLOW_TARGETS). */
  url: string;
};

/** What to try: an event, and the subscription's filter and payload query (saved ones by id, or given here). */
export type WebhookSubscriptionPreviewInput = {
  /** Event type name of the event to try. */
  eventType: string;
  /** Event type names or patterns to try instead of the saved ones (without an id and without these: every event type). */
  eventTypes?: Array<string> | null | undefined;
  /** A filter to try instead of the saved one. */
  filter?: unknown;
  /** A subscription whose status, patterns, filter and payload query to use (patterns, filter or payload query given in this input take the saved ones' place). */
  id?: string | number | null | undefined;
  /** The payload to try. */
  payload: unknown;
  /** A payload query to try instead of the saved one. */
  payloadQuery?: string | null | undefined;
};

/** ENABLED receives deliveries; DISABLED was switched off by a client; FAILING_DISABLED was switched off by hookgraph after failing too long. */
export type WebhookSubscriptionStatus =
  /** Switched off by a client, or by hookgraph when the receiver answered 410 Gone; receives nothing. */
  | 'DISABLED'
  /** Receives deliveries of every matching event. */
  | 'ENABLED'
  /** Switched off by hookgraph after every delivery failed for HOOKGRAPH_DISABLE_AFTER (default 5 days); receives nothing. */
  | 'FAILING_DISABLED';

/** Fields left out stay as they are; null clears description, filter, metadata, headers, rateLimitPerSecond, maxInFlight and retrySchedule. */
export type WebhookSubscriptionUpdateInput = {
  /** New free text, at most 1000 characters; null clears it. */
  description?: string | null | undefined;
  /** New event type names or patterns, 1–100; replaces the whole list. */
  eventTypes?: Array<string> | null | undefined;
  /** New payload filter, matched against the delivered body as on create; null delivers every event. */
  filter?: unknown;
  /** Replaces the custom headers: names left out are removed; a value of "********" keeps the stored value of that header (so the masked headers read back can be sent again). */
  headers?: unknown;
  /** Id of the subscription to change. */
  id: string | number;
  /** 1..1000 deliveries in flight at once per worker process (capped by the worker's HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT); null: that default. */
  maxInFlight?: number | null | undefined;
  /** New free JSON for the client, at most 16 KiB; null clears it. */
  metadata?: unknown;
  /** Deliver one at a time in publish order. */
  ordered?: boolean | null | undefined;
  /** Dotted path into the delivered body, e.g. `data.orderId` (at most 200 characters, starting with id, type, timestamp or data): deliveries with the same value there go one at a time in publish order, different values in parallel. Cannot be combined with ordered: true. Null or blank clears it; deliveries already queued keep the order they were queued with. */
  orderingKey?: string | null | undefined;
  /** GraphQL subscription document against `eventSchema.sdl`, e.g. `subscription { orderCreated { orderId total } }` (one named operation per event type to shape); validated when saved. Null or blank clears it. */
  payloadQuery?: string | null | undefined;
  /** 1..10000 deliveries per second; null: no limit. */
  rateLimitPerSecond?: number | null | undefined;
  /** Delay before each attempt (e.g. ["0", "10s", "1m"]: three attempts), in the syntax of HOOKGRAPH_RETRY_SCHEDULE; 1–50 entries of at most 7d each. Null: the server's schedule. */
  retrySchedule?: Array<string> | null | undefined;
  /** ENABLED or DISABLED; enabling a FAILING_DISABLED subscription resets its failure state. */
  status?: WebhookSubscriptionStatus | null | undefined;
  /** New http(s) url; its host must resolve to public addresses (see HOOKGRAPH_ALLOW_TARGETS). */
  url?: string | null | undefined;
};

export type DeliveryFieldsFragment = { id: string, status: DeliveryStatus, attemptCount: number, nextAttemptAt: string | null, createdAt: string, updatedAt: string, lastResponseStatus: number | null, lastError: string | null, event: { id: string, eventType: string, occurredAt: string }, webhookSubscription: { id: string, url: string, ordered: boolean, orderingKey: string | null } };

export type DeliveriesQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: DeliveryFilter | null | undefined;
}>;


export type DeliveriesQuery = { deliveries: { nodes: Array<{ id: string, status: DeliveryStatus, attemptCount: number, nextAttemptAt: string | null, createdAt: string, updatedAt: string, lastResponseStatus: number | null, lastError: string | null, event: { id: string, eventType: string, occurredAt: string }, webhookSubscription: { id: string, url: string, ordered: boolean, orderingKey: string | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type DeliveryUpdatedSubscriptionVariables = Exact<{
  filter?: DeliveryFilter | null | undefined;
}>;


export type DeliveryUpdatedSubscription = { deliveryUpdated: { id: string, status: DeliveryStatus, attemptCount: number, nextAttemptAt: string | null, createdAt: string, updatedAt: string, lastResponseStatus: number | null, lastError: string | null, event: { id: string, eventType: string, occurredAt: string }, webhookSubscription: { id: string, url: string, ordered: boolean, orderingKey: string | null } } };

export type DeliveryQueryVariables = Exact<{
  id: string | number;
}>;


export type DeliveryQuery = { delivery: { id: string, status: DeliveryStatus, attemptCount: number, nextAttemptAt: string | null, createdAt: string, updatedAt: string, lastResponseStatus: number | null, lastError: string | null, event: { id: string, eventType: string, occurredAt: string, payload: unknown }, attempts: Array<{ attemptNumber: number, startedAt: string, durationMs: number, responseStatus: number | null, responseBody: string | null, errorKind: string | null, error: string | null }>, webhookSubscription: { id: string, url: string, ordered: boolean, orderingKey: string | null } } | null };

export type DeliveryRetryMutationVariables = Exact<{
  id: string | number;
}>;


export type DeliveryRetryMutation = { deliveryRetry: { delivery: { id: string, status: DeliveryStatus, attemptCount: number, nextAttemptAt: string | null, createdAt: string, updatedAt: string, lastResponseStatus: number | null, lastError: string | null, event: { id: string, eventType: string, occurredAt: string }, webhookSubscription: { id: string, url: string, ordered: boolean, orderingKey: string | null } } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type SubscriptionFieldsFragment = { id: string, url: string, description: string | null, eventTypes: Array<string>, status: WebhookSubscriptionStatus, disabledReason: string | null, filter: unknown, headers: unknown, payloadQuery: string | null, retrySchedule: Array<string> | null, ordered: boolean, orderingKey: string | null, lastSuccessAt: string | null, failingSince: string | null, createdAt: string, circuit: { state: CircuitState, openedAt: string | null, nextProbeAt: string | null } };

export type SubscriptionsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type SubscriptionsQuery = { webhookSubscriptions: { nodes: Array<{ id: string, url: string, description: string | null, eventTypes: Array<string>, status: WebhookSubscriptionStatus, disabledReason: string | null, filter: unknown, headers: unknown, payloadQuery: string | null, retrySchedule: Array<string> | null, ordered: boolean, orderingKey: string | null, lastSuccessAt: string | null, failingSince: string | null, createdAt: string, circuit: { state: CircuitState, openedAt: string | null, nextProbeAt: string | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type SubscriptionOptionsQueryVariables = Exact<{ [key: string]: never; }>;


export type SubscriptionOptionsQuery = { webhookSubscriptions: { nodes: Array<{ id: string, url: string }> } };

export type SubscriptionUpdatedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type SubscriptionUpdatedSubscription = { webhookSubscriptionUpdated: { id: string, url: string, description: string | null, eventTypes: Array<string>, status: WebhookSubscriptionStatus, disabledReason: string | null, filter: unknown, headers: unknown, payloadQuery: string | null, retrySchedule: Array<string> | null, ordered: boolean, orderingKey: string | null, lastSuccessAt: string | null, failingSince: string | null, createdAt: string, circuit: { state: CircuitState, openedAt: string | null, nextProbeAt: string | null } } };

export type SubscriptionFailuresQueryVariables = Exact<{
  filter?: DeliveryFilter | null | undefined;
}>;


export type SubscriptionFailuresQuery = { deliveries: { nodes: Array<{ id: string, createdAt: string }>, pageInfo: { hasNextPage: boolean } } };

export type SubscriptionCreateMutationVariables = Exact<{
  input: WebhookSubscriptionCreateInput;
}>;


export type SubscriptionCreateMutation = { webhookSubscriptionCreate: { secret: string | null, webhookSubscription: { id: string, url: string, description: string | null, eventTypes: Array<string>, status: WebhookSubscriptionStatus, disabledReason: string | null, filter: unknown, headers: unknown, payloadQuery: string | null, retrySchedule: Array<string> | null, ordered: boolean, orderingKey: string | null, lastSuccessAt: string | null, failingSince: string | null, createdAt: string, circuit: { state: CircuitState, openedAt: string | null, nextProbeAt: string | null } } | null, warnings: Array<{ message: string }>, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type SubscriptionUpdateMutationVariables = Exact<{
  input: WebhookSubscriptionUpdateInput;
}>;


export type SubscriptionUpdateMutation = { webhookSubscriptionUpdate: { webhookSubscription: { id: string, url: string, description: string | null, eventTypes: Array<string>, status: WebhookSubscriptionStatus, disabledReason: string | null, filter: unknown, headers: unknown, payloadQuery: string | null, retrySchedule: Array<string> | null, ordered: boolean, orderingKey: string | null, lastSuccessAt: string | null, failingSince: string | null, createdAt: string, circuit: { state: CircuitState, openedAt: string | null, nextProbeAt: string | null } } | null, warnings: Array<{ message: string }>, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type SubscriptionRotateMutationVariables = Exact<{
  id: string | number;
}>;


export type SubscriptionRotateMutation = { webhookSubscriptionRotateSecret: { secret: string | null, webhookSubscription: { id: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type SubscriptionStatusMutationVariables = Exact<{
  id: string | number;
  status: WebhookSubscriptionStatus;
}>;


export type SubscriptionStatusMutation = { webhookSubscriptionUpdate: { webhookSubscription: { id: string, url: string, description: string | null, eventTypes: Array<string>, status: WebhookSubscriptionStatus, disabledReason: string | null, filter: unknown, headers: unknown, payloadQuery: string | null, retrySchedule: Array<string> | null, ordered: boolean, orderingKey: string | null, lastSuccessAt: string | null, failingSince: string | null, createdAt: string, circuit: { state: CircuitState, openedAt: string | null, nextProbeAt: string | null } } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type SubscriptionDeleteMutationVariables = Exact<{
  id: string | number;
}>;


export type SubscriptionDeleteMutation = { webhookSubscriptionDelete: { deletedWebhookSubscriptionId: string | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type SubscriptionTestMutationVariables = Exact<{
  id: string | number;
}>;


export type SubscriptionTestMutation = { webhookSubscriptionTest: { event: { id: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type EventTypeFieldsFragment = { id: string, name: string, description: string | null, schema: unknown, archived: boolean, system: boolean, createdAt: string };

export type EventTypesQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  includeArchived?: boolean | null | undefined;
}>;


export type EventTypesQuery = { eventTypes: { nodes: Array<{ id: string, name: string, description: string | null, schema: unknown, archived: boolean, system: boolean, createdAt: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type EventTypeCreateMutationVariables = Exact<{
  input: EventTypeCreateInput;
}>;


export type EventTypeCreateMutation = { eventTypeCreate: { eventType: { id: string, name: string, description: string | null, schema: unknown, archived: boolean, system: boolean, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }>, warnings: Array<{ field: Array<string> | null, code: string, message: string }> } };

export type EventTypeUpdateMutationVariables = Exact<{
  input: EventTypeUpdateInput;
}>;


export type EventTypeUpdateMutation = { eventTypeUpdate: { eventType: { id: string, name: string, description: string | null, schema: unknown, archived: boolean, system: boolean, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }>, warnings: Array<{ field: Array<string> | null, code: string, message: string }> } };

export type EventTypeArchiveMutationVariables = Exact<{
  input: EventTypeArchiveInput;
}>;


export type EventTypeArchiveMutation = { eventTypeArchive: { eventType: { id: string, name: string, description: string | null, schema: unknown, archived: boolean, system: boolean, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type EventPublishMutationVariables = Exact<{
  input: EventPublishInput;
}>;


export type EventPublishMutation = { eventPublish: { event: { id: string, eventType: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: string }> } };

export type EventSchemaQueryVariables = Exact<{ [key: string]: never; }>;


export type EventSchemaQuery = { eventSchema: { sdl: string }, eventTypes: { nodes: Array<{ name: string }> } };

export type LastEventQueryVariables = Exact<{
  eventType: string;
}>;


export type LastEventQuery = { events: { nodes: Array<{ id: string, payload: unknown }> } };

export type SubscriptionPreviewMutationVariables = Exact<{
  input: WebhookSubscriptionPreviewInput;
}>;


export type SubscriptionPreviewMutation = { webhookSubscriptionPreview: { matches: boolean, reason: string | null, body: string | null, userErrors: Array<{ field: Array<string> | null, code: string, message: string }> } };

export type DeliveryStatsQueryVariables = Exact<{
  since: string;
  bucket?: number | null | undefined;
}>;


export type DeliveryStatsQuery = { deliveryStats: { since: string, until: string, bucketSeconds: number, buckets: Array<{ start: string, pending: number, sending: number, succeeded: number, retrying: number, failed: number, cancelled: number, total: number, latencyP50Ms: number | null, latencyP95Ms: number | null }>, total: { start: string, pending: number, sending: number, succeeded: number, retrying: number, failed: number, cancelled: number, total: number, latencyP50Ms: number | null, latencyP95Ms: number | null } } };

export type DeliveryStatsBucketFieldsFragment = { start: string, pending: number, sending: number, succeeded: number, retrying: number, failed: number, cancelled: number, total: number, latencyP50Ms: number | null, latencyP95Ms: number | null };

export type SubscriptionQueryVariables = Exact<{
  id: string | number;
}>;


export type SubscriptionQuery = { webhookSubscription: { id: string, url: string, description: string | null, eventTypes: Array<string>, status: WebhookSubscriptionStatus, disabledReason: string | null, filter: unknown, headers: unknown, payloadQuery: string | null, retrySchedule: Array<string> | null, ordered: boolean, orderingKey: string | null, lastSuccessAt: string | null, failingSince: string | null, createdAt: string, circuit: { state: CircuitState, openedAt: string | null, nextProbeAt: string | null } } | null };

export type DeliveryChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DeliveryChangedSubscription = { deliveryUpdated: { id: string } };

export type DeliverySettledSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DeliverySettledSubscription = { deliveryUpdated: { id: string, status: DeliveryStatus, webhookSubscription: { id: string } } };
