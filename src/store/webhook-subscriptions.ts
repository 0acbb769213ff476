import type { Db, Sql, Tx } from './db.js';
import { LockMode } from '@mikro-orm/core';
import { Tenant } from '../domain/entities/Tenant.js';
import { WebhookSubscription, WebhookSubscriptionStatus } from '../domain/entities/WebhookSubscription.js';
import { isUuid } from '../domain/ids.js';
import { subscriptionChanged } from '../live/messages.js';
import { idBelow, newestFirstOptions, type PageQuery } from './pages.js';

/**
 * The `webhook_subscription` table — webhook subscriptions: endpoints, their sealed secrets and headers, their health.
 * Every statement on it lives in this module.
 */

// ─── Reads and management for the GraphQL API ────────────────────────────

/*
 * The API reads and writes subscriptions as MikroORM entities; their sealed
 * secrets are lazy properties, loaded only where asked for (`findOwn` with
 * `lockSecrets`).
 */

/** The tenant's subscriptions with these ids (ids of other tenants are left out), in no particular order. */
export async function byIds(db: Db, tenantId: string, ids: readonly string[]): Promise<WebhookSubscription[]> {
  return db.em().find(WebhookSubscription, { id: { $in: [...ids] }, tenant: tenantId });
}

/** Every distinct event type name or pattern the tenant's subscriptions use (few: they are matched in the app). */
export async function patterns(db: Sql, tenantId: string): Promise<string[]> {
  const { rows } = await db.query<{ pattern: string }>('select distinct unnest(event_types) as pattern from webhook_subscription where tenant_id = $1', [tenantId]);
  return rows.map((row) => row.pattern);
}

export interface WebhookSubscriptionFilter {
  statuses?: readonly WebhookSubscriptionStatus[] | null;
  /** Only subscriptions listing at least one of these names or patterns (array overlap: indexable, exact). */
  patterns?: readonly string[];
}

/** One page of the tenant's subscriptions, newest first. */
export async function page(db: Db, tenantId: string, filter: WebhookSubscriptionFilter, request: PageQuery): Promise<WebhookSubscription[]> {
  return db.em().find(
    WebhookSubscription,
    {
      tenant: tenantId,
      ...(filter.statuses?.length ? { status: { $in: [...filter.statuses] } } : {}),
      ...(filter.patterns ? { eventTypes: { $overlap: [...filter.patterns] } } : {}),
      ...idBelow(request),
    },
    newestFirstOptions(request),
  );
}

/** What a test send or a replay needs to know of one of the tenant's subscriptions; undefined when there is none. */
export async function deliveryState(db: Sql, tenantId: string, id: string): Promise<{ id: string; ordered: boolean; status: WebhookSubscriptionStatus } | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<{ id: string; ordered: boolean; status: WebhookSubscriptionStatus }>(
    'select id, ordered, status from webhook_subscription where id = $1 and tenant_id = $2',
    [id, tenantId],
  );
  return rows[0];
}

/**
 * One of the tenant's subscriptions, to change in this transaction; undefined
 * when there is none. `lockSecrets` loads the sealed secrets and locks the row,
 * so two rotations at once cannot lose a secret.
 */
export async function findOwn(tx: Tx, tenantId: string, id: string, { lockSecrets = false }: { lockSecrets?: boolean } = {}): Promise<WebhookSubscription | undefined> {
  if (!isUuid(id)) return undefined;
  const found = await tx.em.findOne(
    WebhookSubscription,
    { id, tenant: tenantId },
    lockSecrets ? { populate: ['secretEncrypted', 'previousSecretEncrypted'] as never, lockMode: LockMode.PESSIMISTIC_WRITE } : {},
  );
  return found ?? undefined;
}

/** A subscription to store; its id is chosen by the caller (it is the additional data of the sealed values). */
export interface NewWebhookSubscription {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  filter: unknown;
  /** Sealed values. */
  headers: Record<string, string>;
  metadata: unknown;
  status: WebhookSubscriptionStatus;
  disabledReason: string | null;
  rateLimitPerSecond: number | null;
  ordered: boolean;
  secretEncrypted: string;
}

export async function create(tx: Tx, tenantId: string, fields: NewWebhookSubscription): Promise<WebhookSubscription> {
  const subscription = tx.em.create(WebhookSubscription, { tenant: tx.em.getReference(Tenant, tenantId), ...fields });
  await tx.em.flush();
  return subscription;
}

/** Columns `update` may change; undefined leaves one as it is. */
export interface WebhookSubscriptionChanges {
  url?: string;
  eventTypes?: string[];
  description?: string | null;
  filter?: unknown;
  /** Sealed values. */
  headers?: Record<string, string>;
  metadata?: unknown;
  status?: WebhookSubscriptionStatus;
  disabledReason?: string | null;
  failingSince?: Date | null;
  rateLimitPerSecond?: number | null;
  ordered?: boolean;
  secretEncrypted?: string;
  previousSecretEncrypted?: string | null;
  previousSecretExpiresAt?: Date | null;
}

/** Writes the changes to a subscription found with `findOwn`; a change of status is announced (webhookSubscriptionUpdated). */
export async function update(tx: Tx, subscription: WebhookSubscription, changes: WebhookSubscriptionChanges): Promise<WebhookSubscription> {
  const statusBefore = subscription.status;
  for (const [column, value] of Object.entries(changes)) {
    if (value !== undefined) Object.assign(subscription, { [column]: value });
  }
  await tx.em.flush();
  if (subscription.status !== statusBefore) tx.announce(subscriptionChanged({ tenantId: subscription.tenant.id, id: subscription.id }, subscription.status));
  return subscription;
}

/** Deletes a subscription found with `findOwn`; its deliveries and their attempts go with it (foreign key cascades). */
export async function remove(tx: Tx, subscription: WebhookSubscription): Promise<void> {
  tx.em.remove(subscription);
  await tx.em.flush();
}

// (end of the GraphQL API section)

// ─── Publish, worker, operations, retention, live resync ─────────────────


// (end of the delivery path section)
