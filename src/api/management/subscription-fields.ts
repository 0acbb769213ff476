import type { AddressGuard } from '../../delivery/address-guard.js';
import { MAX_SCHEDULE_DELAY_MS, MAX_SCHEDULE_ENTRIES, parseRetrySchedule } from '../../delivery/retry-policy.js';
import { WebhookSubscriptionStatus } from '../../domain/entities/WebhookSubscription.js';
import { validateFilter } from '../../domain/filter.js';
import { validateHeaders } from '../../domain/headers.js';
import { MAX_ORDERING_KEY, orderingKeyProblem } from '../../domain/ordering-key.js';
import { patternProblem } from '../../domain/patterns.js';
import { isValidSigningSecret } from '../../domain/secrets.js';
import { userError, UserErrorCode, type UserError } from '../errors.js';

/**
 * Checks the fields of webhookSubscriptionCreate/Update one by one; every
 * problem becomes a userError naming its field. Only fields that are present
 * (not undefined) are checked, so updates can send just what changes.
 */
export const MAX_PATTERNS = 100;
export const MAX_DESCRIPTION = 1000;
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_RATE_LIMIT = 10_000;
export const MAX_IN_FLIGHT = 1000;

export interface SubscriptionFields {
  url?: string | null;
  eventTypes?: string[] | null;
  description?: string | null;
  filter?: unknown;
  headers?: unknown;
  metadata?: unknown;
  status?: WebhookSubscriptionStatus | null;
  rateLimitPerSecond?: number | null;
  maxInFlight?: number | null;
  ordered?: boolean | null;
  orderingKey?: string | null;
  secret?: string | null;
  /** Checked against the event schema by the use case (it needs the tenant's event types). */
  payloadQuery?: string | null;
  /** Delays in the syntax of HOOKGRAPH_RETRY_SCHEDULE; null: the server's schedule. */
  retrySchedule?: string[] | null;
}

/** The values to store, normalised; only keys that were given are set. */
export interface CheckedFields {
  url?: string;
  eventTypes?: string[];
  description?: string | null;
  filter?: unknown;
  headers?: Record<string, string>;
  metadata?: unknown;
  status?: WebhookSubscriptionStatus;
  rateLimitPerSecond?: number | null;
  maxInFlight?: number | null;
  ordered?: boolean;
  /** null: cleared. */
  orderingKey?: string | null;
  secret?: string;
  /** Delays in ms; null: the server's schedule. */
  retrySchedule?: number[] | null;
}

const at = (...path: (string | number)[]) => ['input', ...path];

/** A subscription's `eventTypes` input: trimmed and without repeats, or the userErrors on `["input", "eventTypes", …]`. */
export function checkEventTypePatterns(raw: readonly string[]): { patterns?: string[]; errors: UserError[] } {
  const patterns = [...new Set(raw.map((p) => p.trim()))];
  if (patterns.length === 0) return { errors: [userError(at('eventTypes'), UserErrorCode.REQUIRED, 'At least one event type or pattern is required (use "*" for everything).')] };
  if (patterns.length > MAX_PATTERNS) return { errors: [userError(at('eventTypes'), UserErrorCode.TOO_LARGE, `At most ${MAX_PATTERNS} event types or patterns.`)] };
  const errors: UserError[] = [];
  raw.forEach((pattern, i) => {
    const problem = patternProblem(pattern.trim());
    if (problem) errors.push(userError(at('eventTypes', i), UserErrorCode.INVALID_PATTERN, problem));
  });
  return { patterns, errors };
}

export async function checkSubscriptionFields(input: SubscriptionFields, guard: AddressGuard): Promise<{ fields: CheckedFields; errors: UserError[] }> {
  const errors: UserError[] = [];
  const fields: CheckedFields = {};

  if (input.url !== undefined && input.url !== null) {
    const url = input.url.trim();
    if (!url) errors.push(userError(at('url'), UserErrorCode.REQUIRED, 'A url is required.'));
    else {
      const checked = await guard.checkUrl(url);
      if (!checked.ok) errors.push(userError(at('url'), checked.code === 'FORBIDDEN_TARGET' ? UserErrorCode.FORBIDDEN_TARGET : UserErrorCode.INVALID_URL, checked.message));
      else fields.url = checked.url.href;
    }
  }

  if (input.eventTypes !== undefined && input.eventTypes !== null) {
    const checked = checkEventTypePatterns(input.eventTypes);
    errors.push(...checked.errors);
    if (checked.patterns) fields.eventTypes = checked.patterns;
  }

  if (input.description !== undefined) {
    const description = input.description?.trim() || null;
    if (description && description.length > MAX_DESCRIPTION) errors.push(userError(at('description'), UserErrorCode.TOO_LARGE, `The description is longer than ${MAX_DESCRIPTION} characters.`));
    fields.description = description;
  }

  if (input.filter !== undefined) {
    for (const problem of validateFilter(input.filter)) {
      errors.push(userError(at('filter', ...problem.path), UserErrorCode.INVALID_FILTER, problem.message));
    }
    fields.filter = input.filter ?? null;
  }

  if (input.headers !== undefined) {
    const { headers, problems } = validateHeaders(input.headers);
    for (const problem of problems) {
      const code = problem.kind === 'forbidden' ? UserErrorCode.FORBIDDEN_HEADER : problem.kind === 'too_large' ? UserErrorCode.TOO_LARGE : UserErrorCode.INVALID;
      errors.push(userError(problem.name ? at('headers', problem.name) : at('headers'), code, problem.message));
    }
    if (headers) fields.headers = headers;
  }

  if (input.metadata !== undefined) {
    const text = JSON.stringify(input.metadata ?? null);
    if (Buffer.byteLength(text) > MAX_METADATA_BYTES) errors.push(userError(at('metadata'), UserErrorCode.TOO_LARGE, `Metadata is larger than ${MAX_METADATA_BYTES / 1024} KiB.`));
    fields.metadata = input.metadata ?? null;
  }

  if (input.status !== undefined && input.status !== null) {
    if (input.status === WebhookSubscriptionStatus.FAILING_DISABLED) {
      errors.push(userError(at('status'), UserErrorCode.INVALID, 'FAILING_DISABLED is set by hookgraph only; use DISABLED.'));
    } else fields.status = input.status;
  }

  if (input.rateLimitPerSecond !== undefined) {
    const limit = input.rateLimitPerSecond;
    if (limit !== null && (!Number.isInteger(limit) || limit < 1 || limit > MAX_RATE_LIMIT)) {
      errors.push(userError(at('rateLimitPerSecond'), UserErrorCode.INVALID, `rateLimitPerSecond must be between 1 and ${MAX_RATE_LIMIT}, or null for no limit.`));
    } else fields.rateLimitPerSecond = limit;
  }

  if (input.maxInFlight !== undefined) {
    const most = input.maxInFlight;
    if (most !== null && (!Number.isInteger(most) || most < 1 || most > MAX_IN_FLIGHT)) {
      errors.push(userError(at('maxInFlight'), UserErrorCode.INVALID, `maxInFlight must be between 1 and ${MAX_IN_FLIGHT}, or null for the worker's default.`));
    } else fields.maxInFlight = most;
  }

  if (input.ordered !== undefined && input.ordered !== null) fields.ordered = input.ordered;

  if (input.retrySchedule !== undefined) {
    if (input.retrySchedule === null) fields.retrySchedule = null;
    else {
      const parsed = parseRetrySchedule(input.retrySchedule, MAX_SCHEDULE_DELAY_MS);
      if (parsed.ok) fields.retrySchedule = parsed.schedule;
      // The message names the bad entry (1-based, as people count).
      else errors.push(userError(at('retrySchedule'), input.retrySchedule.length > MAX_SCHEDULE_ENTRIES ? UserErrorCode.TOO_LARGE : UserErrorCode.INVALID, parsed.message));
    }
  }

  if (input.orderingKey !== undefined) {
    const path = input.orderingKey?.trim() || null;
    const problem = path === null ? null : orderingKeyProblem(path);
    if (problem) errors.push(userError(at('orderingKey'), path!.length > MAX_ORDERING_KEY ? UserErrorCode.TOO_LARGE : UserErrorCode.INVALID, problem));
    else fields.orderingKey = path;
  }

  if (input.secret !== undefined && input.secret !== null) {
    if (!isValidSigningSecret(input.secret)) errors.push(userError(at('secret'), UserErrorCode.INVALID, 'A secret must be "whsec_" followed by the base64 of 24 to 64 random bytes.'));
    else fields.secret = input.secret;
  }

  return { fields, errors };
}

/**
 * `ordered: true` orders the whole subscription, `orderingKey` only the
 * deliveries of one key value: a subscription has at most one of them, and
 * saving both is refused rather than silently weakening `ordered`.
 */
export function orderingConflict(ordered: boolean, orderingKey: string | null | undefined): UserError | undefined {
  if (!ordered || !orderingKey) return undefined;
  return userError(
    at('orderingKey'),
    UserErrorCode.INVALID,
    'orderingKey cannot be combined with ordered: true (which already sends every delivery of the subscription one at a time); set ordered to false to order per key value only.',
  );
}
