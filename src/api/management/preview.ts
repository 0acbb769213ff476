import { compileFilter, validateFilter } from '../../domain/filter.js';
import { isUuid, uuidv7 } from '../../domain/ids.js';
import { anyPatternMatches, isValidEventTypeName } from '../../domain/patterns.js';
import { checkPayloadQuery, shapePayload, type PayloadPlan } from '../../domain/payload-query.js';
import { OverBudget, WorkMeter } from '../../domain/work-meter.js';
import { PUBLISH_WORK_BUDGET, wireBody } from '../../delivery/publish.js';
import * as webhookSubscriptions from '../../store/webhook-subscriptions.js';
import type { Services } from '../context.js';
import { userError, UserErrorCode, UserInputFailure } from '../errors.js';

/**
 * `webhookSubscriptionPreview`: the filter's verdict and the exact body a
 * subscription would send for an event, with the same code publish runs —
 * nothing is stored or sent.
 */
export interface PreviewInput {
  eventType: string;
  payload: unknown;
  id?: string | null;
  payloadQuery?: string | null;
  filter?: unknown;
}

export async function previewDelivery(services: Services, tenantId: string, input: PreviewInput): Promise<{ matches: boolean; body: string }> {
  if (!isValidEventTypeName(input.eventType)) {
    throw new UserInputFailure([userError(['input', 'eventType'], UserErrorCode.INVALID_EVENT_TYPE_NAME, `"${input.eventType.slice(0, 140)}" is not a valid event type name.`)]);
  }
  const payloadJson = JSON.stringify(input.payload ?? null);
  if (Buffer.byteLength(payloadJson) > services.config.maxPayloadBytes) {
    throw new UserInputFailure([userError(['input', 'payload'], UserErrorCode.TOO_LARGE, `The payload is larger than ${services.config.maxPayloadBytes} bytes when serialized.`)]);
  }
  // A malformed id is one that does not exist (the lookup only takes UUIDs).
  const saved = input.id && isUuid(input.id) ? (await webhookSubscriptions.byIds(services.db, tenantId, [input.id]))[0] : undefined;
  if (input.id && !saved) throw new UserInputFailure([userError(['input', 'id'], UserErrorCode.NOT_FOUND, 'No webhook subscription with this id.')]);
  const patterns = saved?.eventTypes ?? ['*'];

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
  const meter = new WorkMeter(PUBLISH_WORK_BUDGET);
  try {
    const matches = anyPatternMatches(patterns, input.eventType) && compileFilter(filter)({ id, type: input.eventType, timestamp: occurredAt.toISOString(), data: input.payload }, meter);
    const fields = plan?.[input.eventType];
    const body = wireBody(id, input.eventType, occurredAt, fields ? JSON.stringify(shapePayload(fields, input.payload, meter)) : payloadJson);
    return { matches, body };
  } catch (error) {
    if (!(error instanceof OverBudget)) throw error;
    throw new UserInputFailure([userError(['input', 'payload'], UserErrorCode.TOO_LARGE, `Matching and shaping this payload is more work than one call may do (${PUBLISH_WORK_BUDGET} units).`)]);
  }
}
