/**
 * Every GraphQL document the console sends, in one place: the console is a
 * plain client of hookgraph's public schema (schema/schema.graphql). Their
 * result and variable types are generated into ./generated/graphql.ts by
 * `npm run admin:codegen` (the /* GraphQL *\/ tag marks what it reads).
 */

import type {
  DeliveryFieldsFragment,
  DeliveryQuery,
  DeliveryStatsBucketFieldsFragment,
  DeliveryStatus,
  EventTypeFieldsFragment,
  SubscriptionFieldsFragment,
} from './generated/graphql.js';

export const DELIVERY_FIELDS = /* GraphQL */ `fragment DeliveryFields on Delivery {
  id status attemptCount nextAttemptAt createdAt updatedAt lastResponseStatus lastError
  event { id eventType occurredAt }
  webhookSubscription { id url ordered orderingKey }
}`;

export const DELIVERIES = /* GraphQL */ `query Deliveries($first: Int, $after: String, $filter: DeliveryFilter) {
  deliveries(first: $first, after: $after, filter: $filter) {
    nodes { ...DeliveryFields }
    pageInfo { hasNextPage endCursor }
  }
}
${DELIVERY_FIELDS}`;

export const DELIVERY_UPDATED = /* GraphQL */ `subscription DeliveryUpdated($filter: DeliveryFilter) {
  deliveryUpdated(filter: $filter) { ...DeliveryFields }
}
${DELIVERY_FIELDS}`;

export const DELIVERY = /* GraphQL */ `query Delivery($id: ID!) {
  delivery(id: $id) {
    ...DeliveryFields
    event { id eventType occurredAt payload }
    attempts { attemptNumber startedAt durationMs responseStatus responseBody errorKind error }
  }
}
${DELIVERY_FIELDS}`;

export const DELIVERY_RETRY = /* GraphQL */ `mutation DeliveryRetry($id: ID!) {
  deliveryRetry(input: { id: $id }) { delivery { ...DeliveryFields } userErrors { field message code } }
}
${DELIVERY_FIELDS}`;

export const SUBSCRIPTION_FIELDS = /* GraphQL */ `fragment SubscriptionFields on WebhookSubscription {
  id url description eventTypes status disabledReason filter headers payloadQuery retrySchedule ordered orderingKey
  lastSuccessAt failingSince circuit { state openedAt nextProbeAt } createdAt
}`;

export const SUBSCRIPTIONS = /* GraphQL */ `query Subscriptions($first: Int, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { ...SubscriptionFields }
    pageInfo { hasNextPage endCursor }
  }
}
${SUBSCRIPTION_FIELDS}`;

export const SUBSCRIPTION_OPTIONS = /* GraphQL */ `query SubscriptionOptions {
  webhookSubscriptions(first: 100) { nodes { id url } }
}`;

export const SUBSCRIPTION_UPDATED = /* GraphQL */ `subscription SubscriptionUpdated {
  webhookSubscriptionUpdated { ...SubscriptionFields }
}
${SUBSCRIPTION_FIELDS}`;

/** Failures of one subscription (recent first), for its health column. */
export const SUBSCRIPTION_FAILURES = /* GraphQL */ `query SubscriptionFailures($filter: DeliveryFilter) {
  deliveries(first: 20, filter: $filter) { nodes { id createdAt } pageInfo { hasNextPage } }
}`;

export const SUBSCRIPTION_CREATE = /* GraphQL */ `mutation SubscriptionCreate($input: WebhookSubscriptionCreateInput!) {
  webhookSubscriptionCreate(input: $input) { webhookSubscription { ...SubscriptionFields } secret warnings { message } userErrors { field message code } }
}
${SUBSCRIPTION_FIELDS}`;

export const SUBSCRIPTION_UPDATE = /* GraphQL */ `mutation SubscriptionUpdate($input: WebhookSubscriptionUpdateInput!) {
  webhookSubscriptionUpdate(input: $input) { webhookSubscription { ...SubscriptionFields } warnings { message } userErrors { field message code } }
}
${SUBSCRIPTION_FIELDS}`;

export const SUBSCRIPTION_ROTATE = /* GraphQL */ `mutation SubscriptionRotate($id: ID!) {
  webhookSubscriptionRotateSecret(input: { id: $id }) { webhookSubscription { id } secret userErrors { field message code } }
}`;

export const SUBSCRIPTION_STATUS = /* GraphQL */ `mutation SubscriptionStatus($id: ID!, $status: WebhookSubscriptionStatus!) {
  webhookSubscriptionUpdate(input: { id: $id, status: $status }) { webhookSubscription { ...SubscriptionFields } userErrors { field message code } }
}
${SUBSCRIPTION_FIELDS}`;

export const SUBSCRIPTION_DELETE = /* GraphQL */ `mutation SubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(input: { id: $id }) { deletedWebhookSubscriptionId userErrors { field message code } }
}`;

export const SUBSCRIPTION_TEST = /* GraphQL */ `mutation SubscriptionTest($id: ID!) {
  webhookSubscriptionTest(input: { id: $id }) { event { id } userErrors { field message code } }
}`;

export const EVENT_TYPE_FIELDS = /* GraphQL */ `fragment EventTypeFields on EventType { id name description schema archived system createdAt }`;

export const EVENT_TYPES = /* GraphQL */ `query EventTypes($first: Int, $after: String, $includeArchived: Boolean) {
  eventTypes(first: $first, after: $after, includeArchived: $includeArchived) {
    nodes { ...EventTypeFields }
    pageInfo { hasNextPage endCursor }
  }
}
${EVENT_TYPE_FIELDS}`;

export const EVENT_TYPE_CREATE = /* GraphQL */ `mutation EventTypeCreate($input: EventTypeCreateInput!) {
  eventTypeCreate(input: $input) { eventType { ...EventTypeFields } userErrors { field message code } warnings { field code message } }
}
${EVENT_TYPE_FIELDS}`;

export const EVENT_TYPE_UPDATE = /* GraphQL */ `mutation EventTypeUpdate($input: EventTypeUpdateInput!) {
  eventTypeUpdate(input: $input) { eventType { ...EventTypeFields } userErrors { field message code } warnings { field code message } }
}
${EVENT_TYPE_FIELDS}`;

export const EVENT_TYPE_ARCHIVE = /* GraphQL */ `mutation EventTypeArchive($input: EventTypeArchiveInput!) {
  eventTypeArchive(input: $input) { eventType { ...EventTypeFields } userErrors { field message code } }
}
${EVENT_TYPE_FIELDS}`;

export const EVENT_PUBLISH = /* GraphQL */ `mutation EventPublish($input: EventPublishInput!) {
  eventPublish(input: $input) { event { id eventType } userErrors { field message code } }
}`;

/** The tenant's event schema (what payload queries select from) and the event types in it (the non-archived ones). */
export const EVENT_SCHEMA = /* GraphQL */ `query EventSchema {
  eventSchema { sdl }
  eventTypes(first: 100) { nodes { name } }
}`;

/** The last event of one type: what the subscription form previews against. */
export const LAST_EVENT = /* GraphQL */ `query LastEvent($eventType: String!) {
  events(first: 1, filter: { eventTypes: [$eventType] }) { nodes { id payload } }
}`;

export const SUBSCRIPTION_PREVIEW = /* GraphQL */ `mutation SubscriptionPreview($input: WebhookSubscriptionPreviewInput!) {
  webhookSubscriptionPreview(input: $input) { matches reason body userErrors { field code message } }
}`;

/** Deliveries per minute by status and latency percentiles, for the counters and the chart. */
export const DELIVERY_STATS = /* GraphQL */ `query DeliveryStats($since: DateTime!, $bucket: Int) {
  deliveryStats(since: $since, bucket: $bucket) {
    since until bucketSeconds
    buckets { ...DeliveryStatsBucketFields }
    total { ...DeliveryStatsBucketFields }
  }
}
fragment DeliveryStatsBucketFields on DeliveryStatsBucket {
  start pending sending succeeded retrying failed cancelled total latencyP50Ms latencyP95Ms
}`;

export const SUBSCRIPTION_ONE = /* GraphQL */ `query Subscription($id: ID!) {
  webhookSubscription(id: $id) { ...SubscriptionFields }
}
${SUBSCRIPTION_FIELDS}`;

/** Any change of any delivery (created, claimed, settled, re-queued): the stats are due for a reload. */
export const DELIVERY_CHANGED = /* GraphQL */ `subscription DeliveryChanged {
  deliveryUpdated { id }
}`;

/** Finished attempts change a subscription's health (last success, failures). */
export const DELIVERY_SETTLED = /* GraphQL */ `subscription DeliverySettled {
  deliveryUpdated(filter: { statuses: [SUCCEEDED, RETRYING, FAILED] }) { id status webhookSubscription { id } }
}`;

// Row types of the documents above, generated from them and schema/schema.graphql (npm run admin:codegen).
export type DeliveryRow = DeliveryFieldsFragment;
export type DeliveryDetail = NonNullable<DeliveryQuery['delivery']>;
export type Attempt = DeliveryDetail['attempts'][number];
export type SubscriptionRow = SubscriptionFieldsFragment;
export type EventTypeRow = EventTypeFieldsFragment;
export type DeliveryStatsBucket = DeliveryStatsBucketFieldsFragment;

export const DELIVERY_STATUSES = ['PENDING', 'SENDING', 'SUCCEEDED', 'RETRYING', 'FAILED', 'CANCELLED'] as const satisfies readonly DeliveryStatus[];
