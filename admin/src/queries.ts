/**
 * Every GraphQL document the console sends, in one place: the console is a
 * plain client of hookgraph's public schema (schema/schema.graphql).
 */

export const DELIVERY_FIELDS = `
  id status attemptCount nextAttemptAt createdAt updatedAt lastResponseStatus lastError
  event { id eventType occurredAt }
  webhookSubscription { id url }
`;

export const DELIVERIES = `query Deliveries($first: Int, $after: String, $filter: DeliveryFilter) {
  deliveries(first: $first, after: $after, filter: $filter) {
    nodes { ${DELIVERY_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const DELIVERY_UPDATED = `subscription DeliveryUpdated($filter: DeliveryFilter) {
  deliveryUpdated(filter: $filter) { ${DELIVERY_FIELDS} }
}`;

export const DELIVERY = `query Delivery($id: ID!) {
  delivery(id: $id) {
    ${DELIVERY_FIELDS}
    event { id eventType occurredAt payload }
    attempts { attemptNumber startedAt durationMs responseStatus responseBody errorKind error }
  }
}`;

export const DELIVERY_RETRY = `mutation DeliveryRetry($id: ID!) {
  deliveryRetry(input: { id: $id }) { delivery { ${DELIVERY_FIELDS} } userErrors { field message code } }
}`;

export const SUBSCRIPTION_FIELDS = `
  id url description eventTypes status disabledReason filter headers
  lastSuccessAt failingSince createdAt
`;

export const SUBSCRIPTIONS = `query Subscriptions($first: Int, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { ${SUBSCRIPTION_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const SUBSCRIPTION_OPTIONS = `query SubscriptionOptions {
  webhookSubscriptions(first: 100) { nodes { id url } }
}`;

export const SUBSCRIPTION_UPDATED = `subscription SubscriptionUpdated {
  webhookSubscriptionUpdated { ${SUBSCRIPTION_FIELDS} }
}`;

/** Failures of one subscription (recent first), for its health column. */
export const SUBSCRIPTION_FAILURES = `query SubscriptionFailures($filter: DeliveryFilter) {
  deliveries(first: 20, filter: $filter) { nodes { id createdAt } pageInfo { hasNextPage } }
}`;

export const SUBSCRIPTION_CREATE = `mutation SubscriptionCreate($input: WebhookSubscriptionCreateInput!) {
  webhookSubscriptionCreate(input: $input) { webhookSubscription { ${SUBSCRIPTION_FIELDS} } secret warnings { message } userErrors { field message code } }
}`;

export const SUBSCRIPTION_UPDATE = `mutation SubscriptionUpdate($input: WebhookSubscriptionUpdateInput!) {
  webhookSubscriptionUpdate(input: $input) { webhookSubscription { ${SUBSCRIPTION_FIELDS} } warnings { message } userErrors { field message code } }
}`;

export const SUBSCRIPTION_ROTATE = `mutation SubscriptionRotate($id: ID!) {
  webhookSubscriptionRotateSecret(input: { id: $id }) { webhookSubscription { id } secret userErrors { field message code } }
}`;

export const SUBSCRIPTION_STATUS = `mutation SubscriptionStatus($id: ID!, $status: WebhookSubscriptionStatus!) {
  webhookSubscriptionUpdate(input: { id: $id, status: $status }) { webhookSubscription { ${SUBSCRIPTION_FIELDS} } userErrors { field message code } }
}`;

export const SUBSCRIPTION_DELETE = `mutation SubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(input: { id: $id }) { deletedWebhookSubscriptionId userErrors { field message code } }
}`;

export const SUBSCRIPTION_TEST = `mutation SubscriptionTest($id: ID!) {
  webhookSubscriptionTest(input: { id: $id }) { event { id } userErrors { field message code } }
}`;

export const EVENT_TYPE_FIELDS = `id name description schema archived createdAt`;

export const EVENT_TYPES = `query EventTypes($first: Int, $after: String, $includeArchived: Boolean) {
  eventTypes(first: $first, after: $after, includeArchived: $includeArchived) {
    nodes { ${EVENT_TYPE_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const EVENT_TYPE_CREATE = `mutation EventTypeCreate($input: EventTypeCreateInput!) {
  eventTypeCreate(input: $input) { eventType { ${EVENT_TYPE_FIELDS} } userErrors { field message code } }
}`;

export const EVENT_TYPE_UPDATE = `mutation EventTypeUpdate($input: EventTypeUpdateInput!) {
  eventTypeUpdate(input: $input) { eventType { ${EVENT_TYPE_FIELDS} } userErrors { field message code } }
}`;

export const EVENT_TYPE_ARCHIVE = `mutation EventTypeArchive($input: EventTypeArchiveInput!) {
  eventTypeArchive(input: $input) { eventType { ${EVENT_TYPE_FIELDS} } userErrors { field message code } }
}`;

export const EVENT_PUBLISH = `mutation EventPublish($input: EventPublishInput!) {
  eventPublish(input: $input) { event { id eventType } userErrors { field message code } }
}`;

export interface DeliveryRow {
  id: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  lastResponseStatus: number | null;
  lastError: string | null;
  event: { id: string; eventType: string; occurredAt: string; payload?: unknown };
  webhookSubscription: { id: string; url: string };
}

export interface Attempt {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  responseStatus: number | null;
  responseBody: string | null;
  errorKind: string | null;
  error: string | null;
}

export interface SubscriptionRow {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  status: string;
  disabledReason: string | null;
  filter: unknown;
  headers: Record<string, string> | null;
  lastSuccessAt: string | null;
  failingSince: string | null;
  createdAt: string;
}

export interface EventTypeRow {
  id: string;
  name: string;
  description: string | null;
  schema: unknown;
  archived: boolean;
  createdAt: string;
}

export const DELIVERY_STATUSES = ['PENDING', 'SENDING', 'SUCCEEDED', 'RETRYING', 'FAILED', 'CANCELLED'] as const;

/** Just enough of each delivery to count the last hour. */
export const DELIVERY_COUNTS = `query DeliveryCounts($first: Int, $after: String, $since: DateTime) {
  deliveries(first: $first, after: $after, filter: { createdSince: $since }) {
    nodes { id status createdAt updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const SUBSCRIPTION_ONE = `query Subscription($id: ID!) {
  webhookSubscription(id: $id) { ${SUBSCRIPTION_FIELDS} }
}`;

/** Finished attempts change a subscription's health (last success, failures). */
export const DELIVERY_SETTLED = `subscription DeliverySettled {
  deliveryUpdated(filter: { statuses: [SUCCEEDED, RETRYING, FAILED] }) { id status webhookSubscription { id } }
}`;
