import { compileFilter, validateFilter } from '../../domain/filter.js';
import { isUuid, uuidv7 } from '../../domain/ids.js';
import { anyPatternMatches, isValidEventTypeName } from '../../domain/patterns.js';
import { WebhookSubscriptionStatus } from '../../domain/entities/WebhookSubscription.js';
import { validatePayload } from '../../domain/json-schema.js';
import { systemEventType } from '../../domain/operational-events.js';
import { checkPayloadQuery, ShapedTooLarge, shapePayload, type PayloadPlan } from '../../domain/payload-query.js';
import { OverBudget, WorkMeter } from '../../domain/work-meter.js';
import { PUBLISH_WORK_BUDGET, wireBody } from '../../delivery/publish.js';
import * as eventTypes from '../../store/event-types.js';
import * as webhookSubscriptions from '../../store/webhook-subscriptions.js';
import type { Services } from '../context.js';
import { userError, UserErrorCode, UserInputFailure } from '../errors.js';
import { checkEventTypePatterns } from './subscription-fields.js';

/**
 * `webhookSubscriptionPreview`: the filter's verdict and the exact body a
 * subscription would send for an event, with the same code publish runs —
 * nothing is stored or sent. An event publish would refuse (an event type
 * that does not exist or is archived, a payload its JSON Schema refuses) is
 * a userError here too; one that would be published but not delivered to
 * the subscription is `matches: false` with the reason.
 */
export interface PreviewInput {
  eventType: string;
  payload: unknown;
  id?: string | null;
  eventTypes?: string[] | null;
  payloadQuery?: string | null;
  filter?: unknown;
}

export async function previewDelivery(services: Services, tenantId: string, input: PreviewInput): Promise<{ matches: boolean; reason: string | null; body: string | null }> {
  if (!isValidEventTypeName(input.eventType)) {
    throw new UserInputFailure([userError(['input', 'eventType'], UserErrorCode.INVALID_EVENT_TYPE_NAME, `"${input.eventType.slice(0, 140)}" is not a valid event type name.`)]);
  }
  const payloadJson = JSON.stringify(input.payload ?? null);
  if (Buffer.byteLength(payloadJson) > services.config.maxPayloadBytes) {
    throw new UserInputFailure([userError(['input', 'payload'], UserErrorCode.TOO_LARGE, `The payload is larger than ${services.config.maxPayloadBytes} bytes when serialized.`)]);
  }
  // As publish checks it; hookgraph's own event types are previewed too, as hookgraph publishes them.
  const type = systemEventType(input.eventType) ?? (await eventTypes.byName(services.db, tenantId, input.eventType));
  if (!type) throw new UserInputFailure([userError(['input', 'eventType'], UserErrorCode.NOT_FOUND, `No event type "${input.eventType}"; create it with eventTypeCreate first.`)]);
  if (type.archivedAt) throw new UserInputFailure([userError(['input', 'eventType'], UserErrorCode.ARCHIVED, `The event type "${input.eventType}" is archived: events of it are not published.`)]);
  const meter = new WorkMeter(PUBLISH_WORK_BUDGET);
  try {
    const check = validatePayload(type.schema, input.payload, meter);
    if (!check.ok) {
      throw new UserInputFailure([userError(['input', 'payload', ...check.path], UserErrorCode.SCHEMA_MISMATCH, `The payload does not match the schema of "${input.eventType}": ${check.message}.`)]);
    }
  } catch (error) {
    if (error instanceof OverBudget) throw tooMuchWork();
    throw error;
  }
  // A malformed id is one that does not exist (the lookup only takes UUIDs).
  const saved = input.id && isUuid(input.id) ? (await webhookSubscriptions.byIds(services.db, tenantId, [input.id]))[0] : undefined;
  if (input.id && !saved) throw new UserInputFailure([userError(['input', 'id'], UserErrorCode.NOT_FOUND, 'No webhook subscription with this id.')]);
  let patterns = saved?.eventTypes ?? ['*'];
  if (input.eventTypes !== undefined && input.eventTypes !== null) {
    const checked = checkEventTypePatterns(input.eventTypes);
    if (checked.errors.length) throw new UserInputFailure(checked.errors);
    patterns = checked.patterns!;
  }

  const filter = input.filter !== undefined ? input.filter : (saved?.filter ?? null);
  const problems = validateFilter(filter);
  if (problems.length) throw new UserInputFailure(problems.map((p) => userError(['input', 'filter', ...p.path], UserErrorCode.INVALID_FILTER, p.message)));

  let plan: PayloadPlan | null = (saved?.payloadPlan as PayloadPlan | null | undefined) ?? null;
  if (input.payloadQuery !== undefined) {
    plan = null;
    if (input.payloadQuery !== null && input.payloadQuery.trim() !== '') {
      const check = checkPayloadQuery(input.payloadQuery, await services.eventSchemas.forTenant(tenantId), patterns);
      if (!check.ok) throw new UserInputFailure([userError(['input', 'payloadQuery'], UserErrorCode.INVALID_PAYLOAD_QUERY, check.message)]);
      plan = check.plan;
    }
  }

  const id = uuidv7();
  const occurredAt = new Date();
  try {
    // The verdict first, as publish decides it (ENABLED subscriptions only, then patterns, then the filter on the
    // unshaped body); only a delivery that would be made is refused for its shaped size, as publish refuses it.
    const reason =
      saved && saved.status !== WebhookSubscriptionStatus.ENABLED
        ? `The subscription is ${saved.status}: it is sent no deliveries.`
        : !anyPatternMatches(patterns, input.eventType)
          ? `The eventTypes (${patterns.join(', ')}) do not match "${input.eventType}".`
          : !compileFilter(filter)({ id, type: input.eventType, timestamp: occurredAt.toISOString(), data: input.payload }, meter)
            ? 'The filter does not match the event.'
            : null;
    const fields = plan?.[input.eventType];
    let data = payloadJson;
    if (fields) {
      try {
        data = JSON.stringify(shapePayload(fields, input.payload, meter, services.config.maxPayloadBytes));
      } catch (error) {
        if (!(error instanceof ShapedTooLarge)) throw error;
        if (reason === null) {
          throw new UserInputFailure([
            userError(['input', 'payloadQuery'], UserErrorCode.TOO_LARGE, `Shaped by this payload query, the event's data would be larger than ${error.limitBytes} bytes, more than a delivery may carry: publishing it would be refused.`),
          ]);
        }
        // Not delivered anyway: the verdict stands, with no body to show.
        return { matches: false, reason, body: null };
      }
    }
    return { matches: reason === null, reason, body: wireBody(id, input.eventType, occurredAt, data) };
  } catch (error) {
    if (error instanceof OverBudget) throw tooMuchWork();
    throw error;
  }
}

const tooMuchWork = () =>
  new UserInputFailure([userError(['input', 'payload'], UserErrorCode.TOO_LARGE, `Validating, matching and shaping this payload is more work than one call may do (${PUBLISH_WORK_BUDGET} units).`)]);
