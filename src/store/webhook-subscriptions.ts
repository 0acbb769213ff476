import type { PayloadPlan } from '../domain/payload-query.js';
import { LockMode } from '@mikro-orm/core';
import { Tenant } from '../domain/entities/Tenant.js';
import { WebhookSubscription, WebhookSubscriptionStatus } from '../domain/entities/WebhookSubscription.js';
import { isUuid } from '../domain/ids.js';
import type { StoredHeaders } from '../domain/subscription-headers.js';
import { subscriptionChanged, type LiveMessage } from '../live/messages.js';
import type { Db, Sql, Tx } from './db.js';
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
export async function deliveryState(
  db: Sql,
  tenantId: string,
  id: string,
): Promise<{ id: string; ordered: boolean; orderingKey: string | null; status: WebhookSubscriptionStatus } | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<{ id: string; ordered: boolean; orderingKey: string | null; status: WebhookSubscriptionStatus }>(
    'select id, ordered, ordering_key as "orderingKey", status from webhook_subscription where id = $1 and tenant_id = $2',
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
  maxInFlight: number | null;
  payloadQuery: string | null;
  payloadPlan: PayloadPlan | null;
  ordered: boolean;
  orderingKey: string | null;
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
  maxInFlight?: number | null;
  payloadQuery?: string | null;
  payloadPlan?: PayloadPlan | null;
  ordered?: boolean;
  orderingKey?: string | null;
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

/**
 * A scalar subquery giving the version of tenant `$1`'s subscriptions (count
 * and sum of `updated_at`, one index scan), to embed in another query: any
 * create, update, delete or status change changes it.
 */
export const VERSION_SQL = `(select count(*)::text || ':' || coalesce(sum(extract(epoch from updated_at)), 0)::text from webhook_subscription where tenant_id = $1)`;

/** The version of the tenant's subscriptions (see VERSION_SQL). */
export async function version(db: Sql, tenantId: string): Promise<string> {
  const { rows } = await db.query<{ version: string }>(`select ${VERSION_SQL} as version`, [tenantId]);
  return rows[0].version;
}

/** An ENABLED subscription as fan-out reads it: patterns and the stored filter, no secrets. */
export interface FanOutRow {
  id: string;
  eventTypes: string[];
  filter: unknown;
  ordered: boolean;
  /** Dotted path of the per-key ordering, when one is set. */
  orderingKey: string | null;
  /** The compiled payload query, when one is set. */
  payloadPlan: PayloadPlan | null;
}

/** The tenant's ENABLED subscriptions, for fan-out. */
export async function enabledForFanOut(db: Sql, tenantId: string): Promise<FanOutRow[]> {
  const { rows } = await db.query<FanOutRow>(
    `select id, event_types as "eventTypes", filter, ordered, ordering_key as "orderingKey", payload_plan as "payloadPlan" from webhook_subscription where tenant_id = $1 and status = 'ENABLED' order by id`,
    [tenantId],
  );
  return rows;
}

/** The tenant's subscriptions with a payload query, for the warnings of an event type change. */
export async function withPayloadQueries(db: Sql, tenantId: string): Promise<{ id: string; eventTypes: string[]; payloadQuery: string }[]> {
  const { rows } = await db.query<{ id: string; eventTypes: string[]; payloadQuery: string }>(
    `select id, event_types as "eventTypes", payload_query as "payloadQuery" from webhook_subscription where tenant_id = $1 and payload_query is not null order by id`,
    [tenantId],
  );
  return rows;
}

/** Each subscription's own in-flight cap (null: none set), for the worker's fair shares; absent ids were deleted. */
export async function inFlightCaps(db: Sql, ids: readonly string[]): Promise<Map<string, number | null>> {
  const { rows } = await db.query<{ id: string; maxInFlight: number | null }>(
    'select id, max_in_flight as "maxInFlight" from webhook_subscription where id = any($1::uuid[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.maxInFlight]));
}

/**
 * Key-share locks the subscriptions before their deliveries are written: a
 * subscription delete locks its row, then cascades to its deliveries; taking
 * the locks in the same order makes it wait for this transaction instead of
 * deadlocking with it.
 */
export async function lockForDeliveries(tx: Tx, ids: readonly string[]): Promise<void> {
  await tx.query('select 1 from webhook_subscription where id = any($1::uuid[]) order by id for key share', [[...new Set(ids)]]);
}

/**
 * Health after a group of attempts: successes clear a failure streak, failures
 * start one (and disable a subscription whose streak is older than
 * `disableAfterMs`: FAILING_DISABLED), a 410 Gone disables at once (DISABLED).
 * A subscription row is touched only when something changes (first failure
 * of a streak, first success after one, at most one success stamp per
 * second), so a busy subscription's row is not a lock hot spot. Announces
 * every status change.
 */
export async function recordHealth(tx: Tx, health: { succeeded: readonly string[]; failed: readonly string[]; gone: readonly string[] }, disableAfterMs: number): Promise<void> {
  const { succeeded, failed, gone } = health;
  if (succeeded.length) {
    await tx.query(
      `update webhook_subscription set last_success_at = now(), failing_since = null
        where id = any($1::uuid[]) and (failing_since is not null or last_success_at is null or last_success_at < now() - interval '1 second')`,
      [succeeded],
    );
  }
  if (failed.length) {
    await tx.query(`update webhook_subscription set failing_since = now() where id = any($1::uuid[]) and failing_since is null`, [failed]);
    const { rows } = await tx.query<{ id: string; tenantId: string }>(
      `update webhook_subscription
          set status = 'FAILING_DISABLED', updated_at = now(),
              disabled_reason = 'every delivery failed since ' || to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        where id = any($1::uuid[]) and status = 'ENABLED' and failing_since < now() - $2::int * interval '1 millisecond'
        returning id, tenant_id as "tenantId"`,
      [failed, disableAfterMs],
    );
    tx.announce(...rows.map((row) => subscriptionChanged(row, 'FAILING_DISABLED')));
  }
  if (gone.length) {
    const { rows } = await tx.query<{ id: string; tenantId: string }>(
      `update webhook_subscription
          set status = 'DISABLED', updated_at = now(),
              disabled_reason = 'the receiver answered 410 Gone at ' || to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        where id = any($1::uuid[]) and status = 'ENABLED'
        returning id, tenant_id as "tenantId"`,
      [gone],
    );
    tx.announce(...rows.map((row) => subscriptionChanged(row, 'DISABLED')));
  }
}

/** A subscription's stored secrets and headers, as the sealing data step reads them. */
export interface SealedColumns {
  id: string;
  headers: StoredHeaders | null;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
}

/** Rows with something not sealed as v2: a v1 signing secret, or a header value in plain text or v1. */
const OUTDATED = `(secret_encrypted not like 'v2.%'
  or previous_secret_encrypted not like 'v2.%'
  or exists (select 1 from jsonb_each_text(headers) h where h.value not like 'v2.%'))`;

/** The next `limit` subscriptions after id `after` with an outdated seal, locked. */
export async function lockOutdatedSeals(tx: Tx, after: string, limit: number): Promise<SealedColumns[]> {
  const { rows } = await tx.query<SealedColumns>(
    `select id, headers, secret_encrypted as "secretEncrypted", previous_secret_encrypted as "previousSecretEncrypted" from webhook_subscription
      where id > $1 and ${OUTDATED} order by id limit ${Number(limit)} for update`,
    [after],
  );
  return rows;
}

/** Stores re-sealed secrets and headers; `updated_at` stays (only the stored form changed, not the subscription). */
export async function storeSeals(tx: Tx, row: SealedColumns): Promise<void> {
  await tx.query('update webhook_subscription set headers = $2, secret_encrypted = $3, previous_secret_encrypted = $4 where id = $1', [
    row.id,
    JSON.stringify(row.headers ?? {}),
    row.secretEncrypted,
    row.previousSecretEncrypted,
  ]);
}

/** Live resync: subscriptions changed since `since`, as announcements. */
export async function changedSince(db: Sql, since: Date, limit: number): Promise<LiveMessage[]> {
  const { rows } = await db.query<{ id: string; tenantId: string; status: string }>(
    `select id, tenant_id as "tenantId", status from webhook_subscription where updated_at >= $1 order by updated_at, id limit ${Number(limit)}`,
    [since],
  );
  return rows.map((r) => subscriptionChanged(r, r.status));
}

// (end of the delivery path section)
