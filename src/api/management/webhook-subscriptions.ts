import type { AddressGuard } from '../../delivery/address-guard.js';
import { type WebhookSubscription as WebhookSubscriptionEntity, WebhookSubscriptionStatus } from '../../domain/entities/WebhookSubscription.js';
import { isUuid, uuidv7 } from '../../domain/ids.js';
import { anyPatternMatches, isWildcard } from '../../domain/patterns.js';
import { SYSTEM_EVENT_TYPES } from '../../domain/operational-events.js';
import { updatedHeaders } from '../../domain/subscription-headers.js';
import { DEFAULT_ROTATION_GRACE_MS, MAX_ROTATION_GRACE_MS, newSecret, rotatedColumns } from '../../domain/subscription-secrets.js';
import type { Db, Sql, Tx } from '../../store/db.js';
import { DELIVERY_QUEUES } from '../../delivery/jobs.js';
import * as deliveries from '../../store/deliveries.js';
import * as eventTypes from '../../store/event-types.js';
import * as queueJobs from '../../store/queue.js';
import * as webhookSubscriptions from '../../store/webhook-subscriptions.js';
import { userError, UserErrorCode, UserInputFailure } from '../errors.js';
import { checkPayloadQuery, type PayloadPlan } from '../../domain/payload-query.js';
import type { EventSchemas } from '../event-schemas.js';
import { checkSubscriptionFields, orderingConflict, type SubscriptionFields } from './subscription-fields.js';

/** Webhook subscription use cases. Each throws UserInputFailure on bad input, having changed nothing. */
export interface Warning {
  field: string[] | null;
  message: string;
  code: string;
}

/** "********" asks to keep a stored value: an error for a header that has none. */
const keptWithoutValue = (names: readonly string[]) =>
  new UserInputFailure(names.map((name) => userError(['input', 'headers', name], UserErrorCode.INVALID, `"${name}" has no stored value to keep ("********" keeps one); give its value.`)));

const notFound = () => new UserInputFailure([userError(['input', 'id'], UserErrorCode.NOT_FOUND, 'No webhook subscription with this id.')]);

async function findOwn(tx: Tx, tenantId: string, id: string, options?: { lockSecrets?: boolean }): Promise<WebhookSubscriptionEntity> {
  const found = await webhookSubscriptions.findOwn(tx, tenantId, id, options);
  if (!found) throw notFound();
  return found;
}

/** Patterns that match no live (unarchived) event type of the tenant: likely typos, so the payload says so. */
export async function unmatchedPatternWarnings(db: Db, tenantId: string, patterns: readonly string[]): Promise<Warning[]> {
  const names = [...(await eventTypes.activeNames(db, tenantId)), ...SYSTEM_EVENT_TYPES.map((t) => t.name)];
  return patterns
    .map((pattern, i) => ({ pattern, i }))
    .filter(({ pattern }) => !names.some((name) => anyPatternMatches([pattern], name)))
    .map(({ pattern, i }) => ({
      field: ['input', 'eventTypes', String(i)],
      code: 'UNMATCHED_PATTERN',
      message: isWildcard(pattern) ? `The pattern "${pattern}" matches no event type yet.` : `There is no event type named "${pattern}" yet.`,
    }));
}

/** What the subscription use cases work with. */
export interface SubscriptionDeps {
  db: Db;
  guard: AddressGuard;
  secretKey: Buffer;
  eventSchemas: EventSchemas;
}

/**
 * The payload query to store, checked against the tenant's event schema and
 * the subscription's patterns and compiled; undefined when `text` is
 * undefined (left as it is), nulls when it is null or blank (cleared).
 */
async function checkedPayloadQuery(
  eventSchemas: EventSchemas,
  tenantId: string,
  text: string | null | undefined,
  patterns: readonly string[],
  sql?: Sql,
): Promise<{ payloadQuery: string | null; payloadPlan: PayloadPlan | null } | undefined> {
  if (text === undefined) return undefined;
  if (text === null || text.trim() === '') return { payloadQuery: null, payloadPlan: null };
  const check = checkPayloadQuery(text, await eventSchemas.forTenant(tenantId, sql), patterns);
  if (!check.ok) throw new UserInputFailure([userError(['input', 'payloadQuery'], UserErrorCode.INVALID_PAYLOAD_QUERY, check.message)]);
  return { payloadQuery: text, payloadPlan: check.plan };
}

export async function createWebhookSubscription(
  { db, guard, secretKey, eventSchemas }: SubscriptionDeps,
  tenantId: string,
  input: SubscriptionFields & { url: string; eventTypes: string[] },
): Promise<{ subscription: WebhookSubscriptionEntity; secret: string; warnings: Warning[] }> {
  const { fields, errors } = await checkSubscriptionFields(
    { ...input, url: input.url ?? '', eventTypes: input.eventTypes ?? [] },
    guard,
  );
  const conflict = orderingConflict(fields.ordered ?? false, fields.orderingKey);
  if (conflict) errors.push(conflict);
  if (errors.length) throw new UserInputFailure(errors);
  const shaping = await checkedPayloadQuery(eventSchemas, tenantId, input.payloadQuery, fields.eventTypes!);
  // The id is the additional data of the sealed secret and header values, so it is chosen first.
  const id = uuidv7();
  const secret = newSecret(secretKey, id, fields.secret);
  const headers = updatedHeaders(secretKey, id, {}, fields.headers ?? {});
  if (headers.unknownKept.length) throw keptWithoutValue(headers.unknownKept);
  const subscription = await db.transaction((tx) =>
    webhookSubscriptions.create(tx, tenantId, {
      id,
      url: fields.url!,
      eventTypes: fields.eventTypes!,
      description: fields.description ?? null,
      filter: fields.filter ?? null,
      headers: headers.headers,
      metadata: fields.metadata ?? null,
      status: fields.status ?? WebhookSubscriptionStatus.ENABLED,
      disabledReason: fields.status === WebhookSubscriptionStatus.DISABLED ? 'Created disabled.' : null,
      rateLimitPerSecond: fields.rateLimitPerSecond ?? null,
      maxInFlight: fields.maxInFlight ?? null,
      payloadQuery: shaping?.payloadQuery ?? null,
      payloadPlan: shaping?.payloadPlan ?? null,
      retrySchedule: fields.retrySchedule ?? null,
      ordered: fields.ordered ?? false,
      orderingKey: fields.orderingKey ?? null,
      secretEncrypted: secret.sealed,
    }),
  );
  return { subscription, secret: secret.plain, warnings: await unmatchedPatternWarnings(db, tenantId, subscription.eventTypes) };
}

export async function updateWebhookSubscription(
  { db, guard, secretKey, eventSchemas }: SubscriptionDeps,
  tenantId: string,
  input: SubscriptionFields & { id: string },
): Promise<{ subscription: WebhookSubscriptionEntity; warnings: Warning[] }> {
  const { secret: _ignored, ...rest } = input;
  const { fields, errors } = await checkSubscriptionFields(rest, guard);
  if (input.id === undefined || !isUuid(input.id)) throw notFound();
  if (errors.length) throw new UserInputFailure(errors);
  const subscription = await db.transaction(async (tx) => {
    const found = await findOwn(tx, tenantId, input.id);
    const conflict = orderingConflict(fields.ordered ?? found.ordered, fields.orderingKey !== undefined ? fields.orderingKey : found.orderingKey);
    if (conflict) throw new UserInputFailure([conflict]);
    const changes: webhookSubscriptions.WebhookSubscriptionChanges = {
      url: fields.url,
      eventTypes: fields.eventTypes,
      description: fields.description,
      filter: fields.filter,
      metadata: fields.metadata,
      rateLimitPerSecond: fields.rateLimitPerSecond,
      maxInFlight: fields.maxInFlight,
      retrySchedule: fields.retrySchedule,
      ordered: fields.ordered,
      orderingKey: fields.orderingKey,
    };
    // A new query, or new patterns under the stored one, are checked together.
    const query = input.payloadQuery !== undefined ? input.payloadQuery : fields.eventTypes ? found.payloadQuery : undefined;
    // Read in this transaction: waiting for another pool connection while holding this one could wait forever.
    const shaping = await checkedPayloadQuery(eventSchemas, tenantId, query, fields.eventTypes ?? found.eventTypes, tx);
    if (shaping) Object.assign(changes, shaping);
    if (fields.headers !== undefined) {
      const { headers, unknownKept } = updatedHeaders(secretKey, found.id, found.headers, fields.headers);
      if (unknownKept.length) throw keptWithoutValue(unknownKept);
      changes.headers = headers;
    }
    if (fields.status !== undefined && fields.status !== found.status) {
      changes.status = fields.status;
      if (fields.status === WebhookSubscriptionStatus.ENABLED) {
        // A fresh start: the failure window begins again with the next failure.
        changes.disabledReason = null;
        changes.failingSince = null;
      } else {
        changes.disabledReason = 'Disabled through webhookSubscriptionUpdate.';
      }
    }
    // Enabled again, or a new url (a new receiver): a fresh start with a closed circuit; what waited goes now.
    const enabled = changes.status === WebhookSubscriptionStatus.ENABLED;
    const moved = fields.url !== undefined && fields.url !== found.url;
    const closing = (enabled || moved) && !!found.circuitOpenedAt;
    if (enabled || moved) Object.assign(changes, CLOSED_CIRCUIT);
    const updated = await webhookSubscriptions.update(tx, found, changes);
    if (closing) await deliveries.attemptsNow(tx, await queueJobs.pullForward(tx, [found.id], DELIVERY_QUEUES));
    return updated;
  });
  const warnings = fields.eventTypes ? await unmatchedPatternWarnings(db, tenantId, subscription.eventTypes) : [];
  return { subscription, warnings };
}

/** The circuit columns of a subscription whose circuit is closed with no failure counted. */
const CLOSED_CIRCUIT: webhookSubscriptions.WebhookSubscriptionChanges = {
  consecutiveFailures: 0,
  circuitOpenedAt: null,
  circuitNextProbeAt: null,
  circuitProbeUntil: null,
  circuitProbeDeliveryId: null,
  circuitProbes: 0,
};

/** Deletes a subscription with its deliveries; pending ones are not sent. */
export async function deleteWebhookSubscription(db: Db, tenantId: string, id: string): Promise<string> {
  return db.transaction(async (tx) => {
    await webhookSubscriptions.remove(tx, await findOwn(tx, tenantId, id));
    return id;
  });
}

export async function rotateWebhookSubscriptionSecret(
  db: Db,
  secretKey: Buffer,
  tenantId: string,
  input: { id: string; secret?: string | null; gracePeriodSeconds?: number | null },
  now: Date = new Date(),
): Promise<{ subscription: WebhookSubscriptionEntity; secret: string }> {
  const { fields, errors } = await checkSubscriptionFields({ secret: input.secret }, undefined as never);
  const graceSeconds = input.gracePeriodSeconds ?? DEFAULT_ROTATION_GRACE_MS / 1000;
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds * 1000 > MAX_ROTATION_GRACE_MS) {
    errors.push(userError(['input', 'gracePeriodSeconds'], UserErrorCode.INVALID, `gracePeriodSeconds must be between 0 and ${MAX_ROTATION_GRACE_MS / 1000} (7 days).`));
  }
  if (!isUuid(input.id)) throw notFound();
  if (errors.length) throw new UserInputFailure(errors);
  return db.transaction(async (tx) => {
    const found = await findOwn(tx, tenantId, input.id, { lockSecrets: true });
    const rotated = rotatedColumns(found.secretEncrypted, secretKey, found.id, now, graceSeconds * 1000, fields.secret);
    const subscription = await webhookSubscriptions.update(tx, found, {
      secretEncrypted: rotated.secretEncrypted,
      previousSecretEncrypted: rotated.previousSecretEncrypted,
      previousSecretExpiresAt: rotated.previousSecretExpiresAt,
    });
    return { subscription, secret: rotated.plain };
  });
}
