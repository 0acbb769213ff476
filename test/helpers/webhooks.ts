import type { TestApp } from './app.js';

/** A tenant with an admin key, as publishing tests need it. */
export interface Tenant {
  app: TestApp;
  key: string;
  tenantId: string;
}

export async function tenant(app: TestApp, name = 'Webhooks tenant'): Promise<Tenant> {
  const { tenantId, adminKey } = await app.createTenant(name);
  return { app, key: adminKey, tenantId };
}

export async function eventType(t: Tenant, name: string, schema?: unknown): Promise<void> {
  const result = await t.app.gql(
    'mutation($input: EventTypeCreateInput!) { eventTypeCreate(input: $input) { eventType { name } userErrors { field code message } } }',
    { input: { name, description: `${name} events`, schema } },
    t.key,
  );
  const payload = result.data?.eventTypeCreate;
  if (!payload?.eventType) throw new Error(`eventTypeCreate failed: ${JSON.stringify(result)}`);
}

export interface CreatedSubscription {
  id: string;
  secret: string;
}

export async function subscription(t: Tenant, input: Record<string, unknown>): Promise<CreatedSubscription> {
  const result = await t.app.gql(
    'mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { id } secret userErrors { field code message } } }',
    { input },
    t.key,
  );
  const payload = result.data?.webhookSubscriptionCreate;
  if (!payload?.webhookSubscription) throw new Error(`webhookSubscriptionCreate failed: ${JSON.stringify(result)}`);
  return { id: payload.webhookSubscription.id, secret: payload.secret };
}

export const PUBLISH = 'mutation($input: EventPublishInput!) { eventPublish(input: $input) { event { id eventType payload occurredAt } userErrors { field code message } } }';
export const PUBLISH_MANY = 'mutation($input: EventsPublishInput!) { eventsPublish(input: $input) { events { id eventType } userErrors { field code message } } }';

/** One eventsPublish call of `count` events of this type, payloads `{ n }`; returns the event ids in order. */
export async function publishMany(t: Tenant, eventTypeName: string, count: number): Promise<string[]> {
  const result = await t.app.gql(PUBLISH_MANY, { input: { events: Array.from({ length: count }, (_, n) => ({ eventType: eventTypeName, payload: { n } })) } }, t.key);
  const errors = result.data?.eventsPublish?.userErrors;
  if (!errors || errors.length) throw new Error(`eventsPublish failed: ${JSON.stringify(result)}`);
  return result.data.eventsPublish.events.map((e: { id: string }) => e.id);
}

export async function publish(t: Tenant, eventTypeName: string, payload: unknown, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  const result = await t.app.gql(PUBLISH, { input: { eventType: eventTypeName, payload, ...extra } }, t.key);
  const event = result.data?.eventPublish?.event;
  if (!event) throw new Error(`eventPublish failed: ${JSON.stringify(result)}`);
  return event;
}

export const DELIVERY = `query($id: ID!) { delivery(id: $id) { id status attemptCount nextAttemptAt lastResponseStatus lastError
  event { id } webhookSubscription { id status }
  attempts { attemptNumber startedAt durationMs requestHeaders responseStatus responseHeaders responseBody errorKind error } } }`;

/** Deliveries of an event, with their attempts. */
export async function deliveriesOf(t: Tenant, eventId: string): Promise<any[]> {
  const result = await t.app.gql(
    `query($id: ID!) { event(id: $id) { deliveries(first: 100) { nodes { id status attemptCount lastResponseStatus lastError webhookSubscription { id }
      attempts { attemptNumber responseStatus errorKind error durationMs } } } } }`,
    { id: eventId },
    t.key,
  );
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data.event.deliveries.nodes;
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until every delivery of the event has one of `statuses`. */
export async function settled(t: Tenant, eventId: string, statuses = ['SUCCEEDED', 'FAILED', 'CANCELLED'], timeoutMs = 10_000): Promise<any[]> {
  return eventually(async () => {
    const list = await deliveriesOf(t, eventId);
    return list.length > 0 && list.every((d) => statuses.includes(d.status)) ? list : undefined;
  }, timeoutMs, `deliveries of ${eventId} to reach ${statuses.join('/')}`);
}
