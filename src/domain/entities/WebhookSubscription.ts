import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';
import { uuidv7 } from '../ids.js';
import { Tenant } from './Tenant.js';

export enum WebhookSubscriptionStatus {
  ENABLED = 'ENABLED',
  DISABLED = 'DISABLED',
  /** Set by the system after failing with no success for HOOKGRAPH_DISABLE_AFTER. */
  FAILING_DISABLED = 'FAILING_DISABLED',
}

/** A receiver: where events of matching types (and payloads) are delivered. */
@Entity({ tableName: 'webhook_subscription' })
@Index({ properties: ['tenant', 'status'] })
export class WebhookSubscription {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @Property({ type: 'text' })
  url!: string;

  /** Exact names or patterns (`order.*`, `*`). */
  @Property({ type: 'text[]' })
  eventTypes!: string[];

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  /** Payload filter (Convoy/Outpost style); null matches every payload. */
  @Property({ type: 'json', nullable: true })
  filter?: unknown;

  /** Custom request headers sent with every delivery. */
  @Property({ type: 'json' })
  headers: Record<string, string> & Opt = {};

  @Property({ type: 'json', nullable: true })
  metadata?: unknown;

  @Enum({ items: () => WebhookSubscriptionStatus })
  status: WebhookSubscriptionStatus & Opt = WebhookSubscriptionStatus.ENABLED;

  @Property({ type: 'text', nullable: true })
  disabledReason?: string | null;

  /** Current signing secret, AES-256-GCM encrypted with HOOKGRAPH_SECRET_KEY. */
  @Property({ type: 'text', lazy: true })
  secretEncrypted!: string;

  /** The secret before the last rotation, valid until previousSecretExpiresAt. */
  @Property({ type: 'text', nullable: true, lazy: true })
  previousSecretEncrypted?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt?: Date | null;

  @Property({ type: 'integer', nullable: true })
  rateLimitPerSecond?: number | null;

  /**
   * The rate limit's theoretical arrival time: the next free send slot, shared
   * by every worker process (reserved per claim batch, see
   * webhookSubscriptions.reserveSendSlots). Written by workers only; not
   * indexed, so its updates stay HOT. Lazy: the API never reads it.
   */
  @Property({ type: 'timestamptz', nullable: true, lazy: true })
  rateTat?: Date | null;

  /**
   * Most attempts of this subscription one worker runs at once (1..1000);
   * null: the worker's HOOKGRAPH_SUBSCRIPTION_IN_FLIGHT, which also caps it.
   */
  @Property({ type: 'integer', nullable: true })
  maxInFlight?: number | null;

  /** GraphQL subscription document against the tenant's event schema that shapes `data` (see domain/payload-query.ts). */
  @Property({ type: 'text', nullable: true })
  payloadQuery?: string | null;

  /** `payloadQuery` compiled when saved: the projection fan-out applies per event type. */
  @Property({ type: 'json', nullable: true })
  payloadPlan?: unknown;

  /**
   * Delay before each attempt in ms, as HOOKGRAPH_RETRY_SCHEDULE gives it (its
   * length is the number of attempts); null: the server's schedule.
   */
  @Property({ type: 'json', nullable: true })
  retrySchedule?: number[] | null;

  /** Deliver strictly in publish order, one at a time. */
  @Property({ type: 'boolean' })
  ordered: boolean & Opt = false;

  /** Dotted path into the delivered body (e.g. `data.orderId`): deliveries with the same value there go in publish order (see domain/ordering-key.ts). */
  @Property({ type: 'text', nullable: true })
  orderingKey?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  lastSuccessAt?: Date | null;

  /** Start of the current run of failures with no success; cleared by a success. */
  @Property({ type: 'timestamptz', nullable: true })
  failingSince?: Date | null;

  /*
   * The circuit breaker (see delivery/circuit.ts). Written by the worker's
   * group commits and claims, never indexed, and `updated_at` is left alone,
   * so these updates stay HOT and do not invalidate the fan-out caches.
   */

  /** Failed attempts since the last success, counted while the circuit is closed. */
  @Property({ type: 'integer' })
  consecutiveFailures: number & Opt = 0;

  /** When the circuit opened; null: closed. */
  @Property({ type: 'timestamptz', nullable: true })
  circuitOpenedAt?: Date | null;

  /** While open: when the next probe may be taken. */
  @Property({ type: 'timestamptz', nullable: true })
  circuitNextProbeAt?: Date | null;

  /** A probe is in flight until then (HALF_OPEN); a prober that crashed loses it at that time. */
  @Property({ type: 'timestamptz', nullable: true })
  circuitProbeUntil?: Date | null;

  /** The delivery sent as the probe in flight (fences its outcome). */
  @Property({ type: 'uuid', nullable: true })
  circuitProbeDeliveryId?: string | null;

  /** Failed probes since the circuit opened (the backoff's exponent). */
  @Property({ type: 'integer' })
  circuitProbes: number & Opt = 0;

  /**
   * When the circuit last visibly changed (opened, took or failed a probe,
   * closed): the live resync after a reconnect re-reads by it as well as by
   * `updated_at`, which the fan-out version is built from. Not indexed.
   */
  @Property({ type: 'timestamptz', nullable: true, lazy: true })
  circuitChangedAt?: Date | null;

  @Property({ type: 'timestamptz' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
