import { LockMode } from '@mikro-orm/core';
import type { AddressGuard } from '../../delivery/address-guard.js';
import { emSql } from '../../db/em-sql.js';
import type { Em } from '../../db/orm.js';
import { EventType as EventTypeEntity } from '../../domain/entities/EventType.js';
import { Tenant as TenantEntity } from '../../domain/entities/Tenant.js';
import { WebhookSubscription as WebhookSubscriptionEntity, WebhookSubscriptionStatus } from '../../domain/entities/WebhookSubscription.js';
import { isUuid, uuidv7 } from '../../domain/ids.js';
import { anyPatternMatches, isWildcard } from '../../domain/patterns.js';
import { updatedHeaders } from '../../domain/subscription-headers.js';
import { DEFAULT_ROTATION_GRACE_MS, MAX_ROTATION_GRACE_MS, newSecret, rotatedColumns } from '../../domain/subscription-secrets.js';
import { announce } from '../../live/announce.js';
import { userError, UserErrorCode, UserInputFailure } from '../errors.js';
import { checkSubscriptionFields, type SubscriptionFields } from './subscription-fields.js';

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

async function findOwn(em: Em, tenantId: string, id: string, populateSecrets = false): Promise<WebhookSubscriptionEntity> {
  if (!isUuid(id)) throw notFound();
  const found = await em.findOne(
    WebhookSubscriptionEntity,
    { id, tenant: tenantId },
    // Rotation reads the secrets and locks the row, so two rotations at once cannot lose a secret.
    populateSecrets ? { populate: ['secretEncrypted', 'previousSecretEncrypted'] as never, lockMode: LockMode.PESSIMISTIC_WRITE } : {},
  );
  if (!found) throw notFound();
  return found;
}

/** Patterns that select no live (unarchived) event type of the tenant: likely typos, so the payload says so. */
export async function unmatchedPatternWarnings(em: Em, tenantId: string, patterns: readonly string[]): Promise<Warning[]> {
  const rows = await em.find(EventTypeEntity, { tenant: tenantId, archivedAt: null }, { fields: ['name'] });
  const names = rows.map((row) => row.name);
  return patterns
    .map((pattern, i) => ({ pattern, i }))
    .filter(({ pattern }) => !names.some((name) => anyPatternMatches([pattern], name)))
    .map(({ pattern, i }) => ({
      field: ['input', 'eventTypes', String(i)],
      code: 'UNMATCHED_PATTERN',
      message: isWildcard(pattern) ? `The pattern "${pattern}" matches no event type yet.` : `There is no event type named "${pattern}" yet.`,
    }));
}

async function announceStatus(em: Em, subscription: WebhookSubscriptionEntity, tenantId: string): Promise<void> {
  await announce(emSql(em), [{ kind: 'webhookSubscription', tenantId, id: subscription.id, status: subscription.status }]);
}

export async function createWebhookSubscription(
  em: Em,
  guard: AddressGuard,
  secretKey: Buffer,
  tenantId: string,
  input: SubscriptionFields & { url: string; eventTypes: string[] },
): Promise<{ subscription: WebhookSubscriptionEntity; secret: string; warnings: Warning[] }> {
  const { fields, errors } = await checkSubscriptionFields(
    { ...input, url: input.url ?? '', eventTypes: input.eventTypes ?? [] },
    guard,
  );
  if (errors.length) throw new UserInputFailure(errors);
  // The id is the additional data of the sealed secret and header values, so it is chosen first.
  const id = uuidv7();
  const secret = newSecret(secretKey, id, fields.secret);
  const headers = updatedHeaders(secretKey, id, {}, fields.headers ?? {});
  if (headers.unknownKept.length) throw keptWithoutValue(headers.unknownKept);
  const subscription = em.create(WebhookSubscriptionEntity, {
    id,
    tenant: em.getReference(TenantEntity, tenantId),
    url: fields.url!,
    eventTypes: fields.eventTypes!,
    description: fields.description ?? null,
    filter: fields.filter ?? null,
    headers: headers.headers,
    metadata: fields.metadata ?? null,
    status: fields.status ?? WebhookSubscriptionStatus.ENABLED,
    disabledReason: fields.status === WebhookSubscriptionStatus.DISABLED ? 'Created disabled.' : null,
    rateLimitPerSecond: fields.rateLimitPerSecond ?? null,
    ordered: fields.ordered ?? false,
    secretEncrypted: secret.sealed,
  });
  await em.flush();
  return { subscription, secret: secret.plain, warnings: await unmatchedPatternWarnings(em, tenantId, subscription.eventTypes) };
}

export async function updateWebhookSubscription(
  em: Em,
  guard: AddressGuard,
  secretKey: Buffer,
  tenantId: string,
  input: SubscriptionFields & { id: string },
): Promise<{ subscription: WebhookSubscriptionEntity; warnings: Warning[] }> {
  const { secret: _ignored, ...rest } = input;
  const { fields, errors } = await checkSubscriptionFields(rest, guard);
  if (input.id === undefined || !isUuid(input.id)) throw notFound();
  if (errors.length) throw new UserInputFailure(errors);
  const subscription = await em.transactional(async (tem) => {
    const found = await findOwn(tem, tenantId, input.id);
    const statusBefore = found.status;
    if (fields.url !== undefined) found.url = fields.url;
    if (fields.eventTypes !== undefined) found.eventTypes = fields.eventTypes;
    if (fields.description !== undefined) found.description = fields.description;
    if (fields.filter !== undefined) found.filter = fields.filter;
    if (fields.headers !== undefined) {
      const { headers, unknownKept } = updatedHeaders(secretKey, found.id, found.headers, fields.headers);
      if (unknownKept.length) throw keptWithoutValue(unknownKept);
      found.headers = headers;
    }
    if (fields.metadata !== undefined) found.metadata = fields.metadata;
    if (fields.rateLimitPerSecond !== undefined) found.rateLimitPerSecond = fields.rateLimitPerSecond;
    if (fields.ordered !== undefined) found.ordered = fields.ordered;
    if (fields.status !== undefined && fields.status !== statusBefore) {
      found.status = fields.status;
      if (fields.status === WebhookSubscriptionStatus.ENABLED) {
        // A fresh start: the failure window begins again with the next failure.
        found.disabledReason = null;
        found.failingSince = null;
      } else {
        found.disabledReason = 'Disabled through webhookSubscriptionUpdate.';
      }
    }
    await tem.flush();
    if (found.status !== statusBefore) await announceStatus(tem, found, tenantId);
    return found;
  });
  const warnings = fields.eventTypes ? await unmatchedPatternWarnings(em, tenantId, subscription.eventTypes) : [];
  return { subscription, warnings };
}

/** Deletes a subscription with its deliveries; pending ones are not sent. */
export async function deleteWebhookSubscription(em: Em, tenantId: string, id: string): Promise<string> {
  return em.transactional(async (tem) => {
    const found = await findOwn(tem, tenantId, id);
    tem.remove(found);
    await tem.flush();
    return id;
  });
}

export async function rotateWebhookSubscriptionSecret(
  em: Em,
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
  return em.transactional(async (tem) => {
    const found = await findOwn(tem, tenantId, input.id, true);
    const rotated = rotatedColumns(found.secretEncrypted, secretKey, found.id, now, graceSeconds * 1000, fields.secret);
    found.secretEncrypted = rotated.secretEncrypted;
    found.previousSecretEncrypted = rotated.previousSecretEncrypted;
    found.previousSecretExpiresAt = rotated.previousSecretExpiresAt;
    await tem.flush();
    return { subscription: found, secret: rotated.plain };
  });
}
