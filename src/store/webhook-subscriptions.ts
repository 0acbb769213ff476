import type { PayloadPlan } from '../domain/payload-query.js';
import { LockMode } from '@mikro-orm/core';
import { Tenant } from '../domain/entities/Tenant.js';
import { WebhookSubscription, WebhookSubscriptionStatus } from '../domain/entities/WebhookSubscription.js';
import { isUuid } from '../domain/ids.js';
import type { StoredHeaders } from '../domain/subscription-headers.js';
import { subscriptionChanged, type LiveMessage } from '../live/messages.js';
import { asDate } from './dates.js';
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
  /** Delays in ms; null: the server's schedule. */
  retrySchedule: number[] | null;
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
  consecutiveFailures?: number;
  circuitOpenedAt?: Date | null;
  circuitNextProbeAt?: Date | null;
  circuitProbeUntil?: Date | null;
  circuitProbeDeliveryId?: string | null;
  circuitProbes?: number;
  rateLimitPerSecond?: number | null;
  maxInFlight?: number | null;
  payloadQuery?: string | null;
  payloadPlan?: PayloadPlan | null;
  retrySchedule?: number[] | null;
  ordered?: boolean;
  orderingKey?: string | null;
  secretEncrypted?: string;
  previousSecretEncrypted?: string | null;
  previousSecretExpiresAt?: Date | null;
}

/** Writes the changes to a subscription found with `findOwn`; a change of status or of the circuit is announced (webhookSubscriptionUpdated). */
export async function update(tx: Tx, subscription: WebhookSubscription, changes: WebhookSubscriptionChanges): Promise<WebhookSubscription> {
  const statusBefore = subscription.status;
  const circuitBefore = subscription.circuitOpenedAt ?? null;
  for (const [column, value] of Object.entries(changes)) {
    if (value !== undefined) Object.assign(subscription, { [column]: value });
  }
  await tx.em.flush();
  if (subscription.status !== statusBefore || (subscription.circuitOpenedAt ?? null) !== circuitBefore) tx.announce(subscriptionChanged({ tenantId: subscription.tenant.id, id: subscription.id }, subscription.status));
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

/** Whether any of the tenant's subscriptions has a payload query (an event type change without any has nothing to warn about). */
export async function anyWithPayloadQuery(db: Sql, tenantId: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>('select exists (select 1 from webhook_subscription where tenant_id = $1 and payload_query is not null) as found', [tenantId]);
  return rows[0].found;
}

/** The first `limit` (by id) of the tenant's subscriptions whose payload query selects one of these event types (a key of the stored plan), for the warnings of an event type change. */
export async function withPayloadQueriesSelecting(db: Sql, tenantId: string, eventTypeNames: readonly string[], limit: number): Promise<{ id: string; eventTypes: string[]; payloadQuery: string }[]> {
  const { rows } = await db.query<{ id: string; eventTypes: string[]; payloadQuery: string }>(
    `select id, event_types as "eventTypes", payload_query as "payloadQuery" from webhook_subscription
      where tenant_id = $1 and payload_query is not null and payload_plan ?| $2::text[] order by id limit $3`,
    [tenantId, eventTypeNames, limit],
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
 * Send slots reserved for a subscription by `reserveSendSlots`, in integer
 * microseconds on the database clock: the first slot lies `firstWaitUs` after
 * `nowUs`, each next one `stepUs` later.
 */
export interface SlotReservation {
  nowUs: number;
  firstWaitUs: number;
  stepUs: number;
}

/**
 * The rate limit shared by every worker process (GCRA): reserves `count`
 * consecutive send slots for each subscription, 1/rate apart, from its
 * theoretical arrival time or now if that has passed (no burst after idling),
 * and moves the arrival time past them, in one statement for the whole claim
 * batch. The step is rounded up to whole microseconds, so slots are never
 * closer than 1/rate. The rows are locked in id order (two workers reserving
 * for the same subscriptions wait for each other instead of deadlocking);
 * "now" is the database's clock read once each row is locked, so slots never
 * start in the past of a lock wait (they would all be sent at once, a burst
 * over the limit). Subscriptions without a rate limit
 * (removed meanwhile) or gone are left out of the answer. Only `rate_tat`
 * changes: no indexed column (HOT), no `updated_at` (not a change of the
 * subscription), nothing announced.
 */
export async function reserveSendSlots(tx: Tx, wants: ReadonlyMap<string, number>): Promise<Map<string, SlotReservation>> {
  if (wants.size === 0) return new Map();
  // Everything is computed from the updated row itself: an update that waited for another worker's is
  // re-evaluated on the row that worker left (a value read by a separate scan would be the old one).
  const { rows } = await tx.query<{ id: string; nowUs: string; firstWaitUs: string; stepUs: string }>(
    `with locked as materialized (
       select id from webhook_subscription where id = any($1::uuid[]) and rate_limit_per_second is not null order by id for no key update
     )
     update webhook_subscription s
        set rate_tat = greatest(s.rate_tat, c.now) + w.n * ceil(1000000.0 / s.rate_limit_per_second)::bigint * interval '1 microsecond'
       from locked l, unnest($1::uuid[], $2::int[]) as w(id, n),
            -- Correlated with the locked row, so it is read after the locks were taken.
            lateral (select clock_timestamp() as now where l.id is not null) c
      where s.id = l.id and w.id = s.id and s.rate_limit_per_second is not null
      returning s.id,
        (extract(epoch from c.now) * 1000000)::bigint as "nowUs",
        (extract(epoch from s.rate_tat - c.now) * 1000000)::bigint - w.n * ceil(1000000.0 / s.rate_limit_per_second)::bigint as "firstWaitUs",
        ceil(1000000.0 / s.rate_limit_per_second)::bigint as "stepUs"`,
    [[...wants.keys()], [...wants.values()]],
  );
  return new Map(rows.map((r) => [r.id, { nowUs: Number(r.nowUs), firstWaitUs: Number(r.firstWaitUs), stepUs: Number(r.stepUs) }]));
}

/**
 * Locks the subscriptions (in id order) before their deliveries are written:
 * a subscription delete locks its row, then cascades to its deliveries;
 * taking the locks in the same order makes it wait for this transaction
 * instead of deadlocking with it. The lock is the one `recordHealth` needs to
 * update the rows, taken up front: a weaker one upgraded later deadlocks with
 * a claim waiting for the row in between (rate-limit slots, circuits).
 */
export async function lockForDeliveries(tx: Tx, ids: readonly string[]): Promise<void> {
  await tx.query('select 1 from webhook_subscription where id = any($1::uuid[]) order by id for no key update', [[...new Set(ids)]]);
}

/** A subscription named in a change: enough to announce it and to raise an operational event about it. */
export interface SubscriptionRef {
  id: string;
  tenantId: string;
  url: string;
}

/** A subscription `recordHealth` disabled. */
export interface DisabledSubscription extends SubscriptionRef {
  status: WebhookSubscriptionStatus.DISABLED | WebhookSubscriptionStatus.FAILING_DISABLED;
}

/** What a group of attempts says about each subscription. */
export interface HealthReport {
  /** Subscriptions with a successful attempt in the group. */
  succeeded: readonly string[];
  /** Subscriptions whose attempts in the group all failed, with how many failed. */
  failed: readonly { id: string; failures: number }[];
  /** Subscriptions whose receiver answered 410 Gone. */
  gone: readonly string[];
  /** Probes of open circuits that failed: the subscription and the delivery sent as its probe. */
  failedProbes: readonly { id: string; deliveryId: string }[];
}

export interface HealthPolicy {
  disableAfterMs: number;
  circuit: CircuitPolicy;
}

/** The circuits a group commit opened and closed, and the subscriptions it disabled (for operational events in the same transaction). */
export interface HealthChanges {
  opened: SubscriptionRef[];
  closed: SubscriptionRef[];
  disabled: DisabledSubscription[];
}

/**
 * Health after a group of attempts: successes clear a failure streak and
 * close an open circuit; failures start a streak, count towards opening the
 * circuit (HOOKGRAPH_CIRCUIT_FAILURES in a row), and disable a subscription
 * whose streak is older than `disableAfterMs` (FAILING_DISABLED); a failed
 * probe sets the next one further off; a 410 Gone disables at once
 * (DISABLED). A subscription row is touched only when something changes
 * (first failure of a streak, failures counted while the circuit is closed,
 * first success after failures, at most one success stamp per second), so a
 * busy healthy subscription's row is not a lock hot spot; the rows are locked
 * in id order. Announces every status and circuit change; a status change
 * sets `updated_at`, a circuit change only `circuit_changed_at` (the live
 * resync after a reconnect re-reads by both), so the circuit never changes
 * the fan-out version. Returns the circuits opened and closed and the
 * subscriptions disabled.
 */
export async function recordHealth(tx: Tx, health: HealthReport, policy: HealthPolicy): Promise<HealthChanges> {
  const { succeeded, failed, gone, failedProbes } = health;
  const { probeBaseMs } = policy.circuit;
  const threshold = policy.circuit.failures;
  const changes: HealthChanges = { opened: [], closed: [], disabled: [] };
  if (succeeded.length) {
    const { rows } = await tx.query<SubscriptionRef & { status: string; wasOpen: boolean }>(
      `update webhook_subscription s
          set last_success_at = now(), failing_since = null, consecutive_failures = 0, circuit_opened_at = null, circuit_next_probe_at = null,
              circuit_probe_until = null, circuit_probe_delivery_id = null, circuit_probes = 0,
              circuit_changed_at = case when l.was_open then now() else s.circuit_changed_at end
         from (select id, circuit_opened_at is not null as was_open from webhook_subscription
                where id = any($1::uuid[])
                  and (failing_since is not null or consecutive_failures > 0 or circuit_opened_at is not null
                       or last_success_at is null or last_success_at < now() - interval '1 second')
                order by id for no key update) l
        where s.id = l.id
        returning s.id, s.tenant_id as "tenantId", s.url, s.status, l.was_open as "wasOpen"`,
      [succeeded],
    );
    changes.closed = rows.filter((r) => r.wasOpen).map(({ id, tenantId, url }) => ({ id, tenantId, url }));
    tx.announce(...rows.filter((r) => r.wasOpen).map((r) => subscriptionChanged(r, r.status)));
  }
  if (failed.length) {
    // Counted only while closed (an open circuit's failures change nothing but the streak's start).
    const { rows } = await tx.query<SubscriptionRef & { status: string; opens: boolean }>(
      `update webhook_subscription s
          set failing_since = coalesce(s.failing_since, now()), consecutive_failures = c.failures,
              circuit_opened_at = case when c.opens then now() else s.circuit_opened_at end,
              circuit_next_probe_at = case when c.opens then now() + $4::int * interval '1 millisecond' else s.circuit_next_probe_at end,
              circuit_probes = case when c.opens then 0 else s.circuit_probes end,
              circuit_changed_at = case when c.opens then now() else s.circuit_changed_at end
         from (select l.id, l.failures + x.n as failures, l.closed and $3::int > 0 and l.enabled and l.failures + x.n >= $3::int as opens
                 from (select id, consecutive_failures as failures, circuit_opened_at is null as closed, status = 'ENABLED' as enabled
                         from webhook_subscription where id = any($1::uuid[]) order by id for no key update) l
                 join unnest($1::uuid[], $2::int[]) as x(id, n) on x.id = l.id) c
        where s.id = c.id and (s.failing_since is null or (s.circuit_opened_at is null and $3::int > 0))
        returning s.id, s.tenant_id as "tenantId", s.url, s.status, c.opens`,
      [failed.map((f) => f.id), failed.map((f) => f.failures), threshold, probeBaseMs],
    );
    const opened = rows.filter((r) => r.opens);
    changes.opened = opened.map(({ id, tenantId, url }) => ({ id, tenantId, url }));
    tx.announce(...opened.map((r) => subscriptionChanged(r, r.status)));
  }
  if (failedProbes.length) {
    // Fenced on the probe's delivery: a prober whose lease ran out cannot end a newer probe. The next probe
    // is at the time the take set, and at least the base wait after this failure (a probe that timed out).
    const { rows } = await tx.query<{ id: string; tenantId: string; status: string }>(
      `update webhook_subscription s
          set circuit_probes = s.circuit_probes + 1, circuit_probe_until = null, circuit_probe_delivery_id = null,
              circuit_next_probe_at = greatest(s.circuit_next_probe_at, now() + $3::int * interval '1 millisecond'), circuit_changed_at = now()
         from unnest($1::uuid[], $2::uuid[]) as x(id, delivery_id)
        where s.id = x.id and s.circuit_probe_delivery_id = x.delivery_id and s.circuit_opened_at is not null
        returning s.id, s.tenant_id as "tenantId", s.status`,
      [failedProbes.map((p) => p.id), failedProbes.map((p) => p.deliveryId), probeBaseMs],
    );
    tx.announce(...rows.map((r) => subscriptionChanged(r, r.status)));
  }
  if (failed.length) {
    const { rows } = await tx.query<SubscriptionRef>(
      `update webhook_subscription
          set status = 'FAILING_DISABLED', updated_at = now(),
              disabled_reason = 'every delivery failed since ' || to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        where id = any($1::uuid[]) and status = 'ENABLED' and failing_since < now() - $2::int * interval '1 millisecond'
        returning id, tenant_id as "tenantId", url`,
      [failed.map((f) => f.id), policy.disableAfterMs],
    );
    tx.announce(...rows.map((row) => subscriptionChanged(row, 'FAILING_DISABLED')));
    changes.disabled.push(...rows.map((row) => ({ ...row, status: WebhookSubscriptionStatus.FAILING_DISABLED as const })));
  }
  if (gone.length) {
    const { rows } = await tx.query<SubscriptionRef>(
      `update webhook_subscription
          set status = 'DISABLED', updated_at = now(),
              disabled_reason = 'the receiver answered 410 Gone at ' || to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        where id = any($1::uuid[]) and status = 'ENABLED'
        returning id, tenant_id as "tenantId", url`,
      [gone],
    );
    tx.announce(...rows.map((row) => subscriptionChanged(row, 'DISABLED')));
    changes.disabled.push(...rows.map((row) => ({ ...row, status: WebhookSubscriptionStatus.DISABLED as const })));
  }
  return changes;
}

/** The circuit columns of a subscription (the breaker's rules: delivery/circuit.ts). */
export interface CircuitColumns {
  circuitOpenedAt?: Date | null;
  circuitNextProbeAt?: Date | null;
  circuitProbeUntil?: Date | null;
}

/** The breaker's settings, resolved once from the config (`circuitPolicy`). */
export interface CircuitPolicy {
  /** Consecutive failures that open the circuit; 0 never opens it. */
  failures: number;
  probeBaseMs: number;
  probeMaxMs: number;
  /** How long a taken probe holds the circuit HALF_OPEN at most: beyond the probe job's expiry, so only a dead prober loses it. */
  leaseMs: number;
}

/** A circuit as a claim reads it under lock (closed: it closed meanwhile). */
export type CircuitRow = Required<CircuitColumns>;

/**
 * Takes the probe of open circuits whose probe is due, one delivery per
 * subscription: a conditional UPDATE that only one transaction wins
 * (concurrent claims wait for the row and then see the lease taken).
 * The winner holds the lease for `leaseMs` and sets the time of the probe
 * after it, should it fail (the wait doubled); announced (HALF_OPEN), with
 * `circuit_changed_at` set (see recordHealth).
 * Returns the subscriptions whose probe was taken, with that next probe time.
 */
export async function takeProbes(tx: Tx, probes: readonly { id: string; deliveryId: string }[], policy: CircuitPolicy): Promise<Map<string, Date>> {
  if (probes.length === 0) return new Map();
  const { rows } = await tx.query<SubscriptionRef & { status: string; nextProbeAt: Date | string }>(
    `update webhook_subscription s
        set circuit_probe_until = now() + $3::int * interval '1 millisecond', circuit_probe_delivery_id = x.delivery_id,
            circuit_next_probe_at = now() + least($5::float8, $4::float8 * power(2, least(s.circuit_probes + 1, 40))) * interval '1 millisecond',
            circuit_changed_at = now()
       from unnest($1::uuid[], $2::uuid[]) as x(id, delivery_id)
      where s.id = x.id and s.circuit_opened_at is not null and s.circuit_next_probe_at <= now()
        and (s.circuit_probe_until is null or s.circuit_probe_until <= now())
      returning s.id, s.tenant_id as "tenantId", s.status, s.circuit_next_probe_at as "nextProbeAt"`,
    [probes.map((p) => p.id), probes.map((p) => p.deliveryId), policy.leaseMs, policy.probeBaseMs, policy.probeMaxMs],
  );
  tx.announce(...rows.map((r) => subscriptionChanged(r, r.status)));
  return new Map(rows.map((r) => [r.id, asDate(r.nextProbeAt)]));
}

/**
 * Locks these subscriptions' rows (in id order, for no key update) and
 * returns their circuit columns as they are now: a claim of open-circuit
 * deliveries decides on current state, and a group commit closing one of
 * these circuits waits for it (and then sees the jobs it made).
 */
export async function lockCircuits(tx: Tx, ids: readonly string[]): Promise<Map<string, CircuitRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await tx.query<{ id: string; circuitOpenedAt: Date | string | null; circuitNextProbeAt: Date | string | null; circuitProbeUntil: Date | string | null }>(
    `select id, circuit_opened_at as "circuitOpenedAt", circuit_next_probe_at as "circuitNextProbeAt", circuit_probe_until as "circuitProbeUntil"
       from webhook_subscription where id = any($1::uuid[]) order by id for no key update`,
    [[...new Set(ids)]],
  );
  return new Map(
    rows.map((r) => [r.id, { circuitOpenedAt: asDate(r.circuitOpenedAt), circuitNextProbeAt: asDate(r.circuitNextProbeAt), circuitProbeUntil: asDate(r.circuitProbeUntil) }]),
  );
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

/** Live resync: subscriptions changed (or whose circuit changed) since `since`, as announcements. */
export async function changedSince(db: Sql, since: Date, limit: number): Promise<LiveMessage[]> {
  const { rows } = await db.query<{ id: string; tenantId: string; status: string }>(
    `select id, tenant_id as "tenantId", status from webhook_subscription where updated_at >= $1 or circuit_changed_at >= $1
      order by greatest(updated_at, circuit_changed_at), id limit ${Number(limit)}`,
    [since],
  );
  return rows.map((r) => subscriptionChanged(r, r.status));
}

// (end of the delivery path section)
