/**
 * Operational events: hookgraph's own events about a tenant's webhook health
 * (`hookgraph.subscription.disabled`, `…circuit_opened`, `…circuit_closed`,
 * `hookgraph.delivery.failed`), published to the tenant's subscriptions whose
 * patterns name the `hookgraph` namespace (`*` does not: see patterns.ts).
 *
 * Their types are defined here, not stored: every tenant has them, none can
 * create, change or archive a type named `hookgraph.*`, and no client can
 * publish one. They are never raised about a delivery of an operational
 * event, so a failing receiver of them cannot start a loop.
 */
import { SYSTEM_NAMESPACE } from './patterns.js';

export const SUBSCRIPTION_DISABLED = 'hookgraph.subscription.disabled';
export const SUBSCRIPTION_CIRCUIT_OPENED = 'hookgraph.subscription.circuit_opened';
export const SUBSCRIPTION_CIRCUIT_CLOSED = 'hookgraph.subscription.circuit_closed';
export const DELIVERY_FAILED = 'hookgraph.delivery.failed';

/** Whether `name` is in the reserved `hookgraph` namespace (clients may not create, change or publish such types). */
export function isSystemEventTypeName(name: string): boolean {
  return name === SYSTEM_NAMESPACE || name.startsWith(`${SYSTEM_NAMESPACE}.`);
}

/** Whether `name` is one of the operational event types (a delivery of one never raises another). */
export function isOperationalEventType(name: string): boolean {
  return OPERATIONAL_NAMES.has(name);
}

/** A system event type as `eventTypes` lists it; shaped like a stored one. */
export interface SystemEventType {
  id: string;
  name: string;
  description: string;
  schema: Record<string, unknown>;
  archivedAt: null;
  createdAt: Date;
  updatedAt: Date;
  system: true;
}

const subscriptionProperties = {
  webhookSubscriptionId: { type: 'string', format: 'uuid', description: 'Id of the webhook subscription this is about.' },
  url: { type: 'string', description: 'Its url.' },
};

const deliveryProperties = {
  deliveryId: { type: 'string', format: 'uuid', description: 'Id of the delivery this is about.' },
  eventId: { type: 'string', format: 'uuid', description: 'Id of the event of that delivery.' },
};

const circuitSchema = (what: string) => ({
  type: 'object',
  description: what,
  properties: {
    ...subscriptionProperties,
    state: { type: 'string', enum: ['CLOSED', 'OPEN', 'HALF_OPEN'], description: 'The state of the circuit now.' },
    openedAt: { type: ['string', 'null'], format: 'date-time', description: 'When the circuit opened; null once it is closed.' },
    nextProbeAt: { type: ['string', 'null'], format: 'date-time', description: 'When the next probe attempt is due while it is open.' },
  },
  required: ['webhookSubscriptionId', 'url', 'state'],
});

/** Ids below every UUIDv7 hookgraph generates, so newest-first lists put the system types last. */
const systemId = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
const DEFINED_AT = new Date('2026-12-02T00:00:00.000Z');

const define = (n: number, name: string, description: string, schema: Record<string, unknown>): SystemEventType =>
  Object.freeze({ id: systemId(n), name, description, schema, archivedAt: null, createdAt: DEFINED_AT, updatedAt: DEFINED_AT, system: true as const });

/** Every system event type, in name order. */
export const SYSTEM_EVENT_TYPES: readonly SystemEventType[] = Object.freeze([
  define(4, DELIVERY_FAILED, 'A delivery used up its retry schedule and is FAILED.', {
    type: 'object',
    description: 'A delivery that used up its retry schedule.',
    properties: {
      ...subscriptionProperties,
      ...deliveryProperties,
      eventType: { type: 'string', description: 'Event type of the failed delivery.' },
      attemptCount: { type: 'integer', minimum: 0, maximum: 1000, description: 'Attempts made.' },
      lastResponseStatus: { type: ['integer', 'null'], minimum: 100, maximum: 599, description: 'HTTP status of the last attempt; null when there was no response.' },
      lastError: { type: ['string', 'null'], description: 'Why the last attempt failed.' },
    },
    required: ['webhookSubscriptionId', 'url', 'deliveryId', 'eventId'],
  }),
  define(2, SUBSCRIPTION_CIRCUIT_CLOSED, "A probe succeeded: the subscription's circuit closed and its waiting deliveries flow again.", circuitSchema("A subscription whose circuit closed.")),
  define(1, SUBSCRIPTION_CIRCUIT_OPENED, "The subscription's circuit opened after consecutive failed attempts: its deliveries wait while probes are sent.", circuitSchema("A subscription whose circuit opened.")),
  define(3, SUBSCRIPTION_DISABLED, 'hookgraph disabled the subscription: its receiver answered 410 Gone (DISABLED), or every delivery failed for HOOKGRAPH_DISABLE_AFTER (FAILING_DISABLED).', {
    type: 'object',
    description: 'A subscription hookgraph disabled.',
    properties: {
      ...subscriptionProperties,
      status: { type: 'string', enum: ['DISABLED', 'FAILING_DISABLED'], description: 'Its status now.' },
      reason: { type: 'string', enum: ['GONE', 'FAILING'], description: 'GONE: the receiver answered 410; FAILING: no success for HOOKGRAPH_DISABLE_AFTER.' },
      ...deliveryProperties,
    },
    required: ['webhookSubscriptionId', 'url', 'status', 'reason'],
  }),
]);

const OPERATIONAL_NAMES: ReadonlySet<string> = new Set(SYSTEM_EVENT_TYPES.map((t) => t.name));
const BY_NAME: ReadonlyMap<string, SystemEventType> = new Map(SYSTEM_EVENT_TYPES.map((t) => [t.name, t]));

/** The system event type of this name, if there is one. */
export function systemEventType(name: string): SystemEventType | undefined {
  return BY_NAME.get(name);
}

/** One operational event to publish: to whom (tenant), what, and about which subscription. */
export interface OperationalEvent {
  tenantId: string;
  eventType: string;
  payload: Record<string, unknown>;
}

/** What the events below need of a subscription. */
export interface SubscriptionRef {
  tenantId: string;
  id: string;
  url: string;
}

/** What the events below need of a delivery. */
export interface DeliveryRef {
  id: string;
  eventId: string;
}

/** `hookgraph.subscription.disabled`: a 410 Gone (DISABLED) or a failure streak too long (FAILING_DISABLED), with the delivery that decided it. */
export function subscriptionDisabled(subscription: SubscriptionRef, status: 'DISABLED' | 'FAILING_DISABLED', delivery?: DeliveryRef): OperationalEvent {
  return {
    tenantId: subscription.tenantId,
    eventType: SUBSCRIPTION_DISABLED,
    payload: {
      webhookSubscriptionId: subscription.id,
      url: subscription.url,
      status,
      reason: status === 'DISABLED' ? 'GONE' : 'FAILING',
      ...(delivery ? { deliveryId: delivery.id, eventId: delivery.eventId } : {}),
    },
  };
}

/** `hookgraph.delivery.failed`: a delivery used up its retry schedule. */
export function deliveryFailed(
  subscription: SubscriptionRef,
  delivery: DeliveryRef & { eventType: string; attemptCount: number; lastResponseStatus: number | null; lastError: string | null },
): OperationalEvent {
  return {
    tenantId: subscription.tenantId,
    eventType: DELIVERY_FAILED,
    payload: {
      webhookSubscriptionId: subscription.id,
      url: subscription.url,
      deliveryId: delivery.id,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      attemptCount: delivery.attemptCount,
      lastResponseStatus: delivery.lastResponseStatus,
      lastError: delivery.lastError,
    },
  };
}

/** `hookgraph.subscription.circuit_opened` / `…circuit_closed`: a change of a subscription's circuit. */
export function circuitChanged(
  subscription: SubscriptionRef,
  circuit: { state: 'CLOSED' | 'OPEN' | 'HALF_OPEN'; openedAt?: Date | null; nextProbeAt?: Date | null },
  delivery?: DeliveryRef,
): OperationalEvent {
  return {
    tenantId: subscription.tenantId,
    eventType: circuit.state === 'CLOSED' ? SUBSCRIPTION_CIRCUIT_CLOSED : SUBSCRIPTION_CIRCUIT_OPENED,
    payload: {
      webhookSubscriptionId: subscription.id,
      url: subscription.url,
      state: circuit.state,
      openedAt: circuit.openedAt?.toISOString() ?? null,
      nextProbeAt: circuit.nextProbeAt?.toISOString() ?? null,
      ...(delivery ? { deliveryId: delivery.id, eventId: delivery.eventId } : {}),
    },
  };
}
