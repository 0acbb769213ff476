import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { SqlExecutor } from '../../db/sql.js';
import { DeliveryStatus } from '../../domain/entities/Delivery.js';
import { asDate } from '../../delivery/dates.js';
import { recordedHeaders } from '../../delivery/request.js';
import { isUuid } from '../../domain/ids.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { connectionType } from './connection.js';
import { Event } from './event.js';
import { JSONScalar } from './scalars.js';

registerEnumType(DeliveryStatus, {
  name: 'DeliveryStatus',
  description: 'PENDING (not tried yet), SENDING (attempt in flight), SUCCEEDED (2xx), RETRYING (failed, next attempt scheduled), FAILED (no more attempts), CANCELLED (subscription no longer enabled).',
});

@ObjectType({ description: 'One HTTP try of a delivery.' })
export class DeliveryAttempt {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: '1 for the first try.' })
  attemptNumber!: number;

  @Field()
  startedAt!: Date;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => JSONScalar, { description: 'Headers sent, signatures included; every custom header value `[redacted]` (they are secrets).' })
  requestHeaders!: Record<string, string>;

  @Field(() => Int, { nullable: true })
  responseStatus!: number | null;

  @Field(() => JSONScalar, { nullable: true })
  responseHeaders!: Record<string, string> | null;

  @Field(() => String, { nullable: true, description: 'First 4 KiB of the response body.' })
  responseBody!: string | null;

  @Field(() => String, { nullable: true, description: 'HTTP_STATUS, TIMEOUT, CONNECTION, DNS, TLS, BLOCKED_TARGET, INVALID_URL; null on success.' })
  errorKind!: string | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  static fromRow(row: AttemptRow): DeliveryAttempt {
    return Object.assign(new DeliveryAttempt(), {
      id: row.id,
      attemptNumber: row.attempt_number,
      startedAt: asDate(row.started_at),
      durationMs: row.duration_ms,
      // Stored already redacted; a trace-context-shaped traceparent on a stored attempt is hookgraph's.
      requestHeaders: recordedHeaders(row.request_headers, true),
      responseStatus: row.response_status,
      responseHeaders: row.response_headers,
      responseBody: row.response_body,
      errorKind: row.error_kind,
      error: row.error,
    });
  }
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  attempt_number: number;
  started_at: Date | string;
  duration_ms: number;
  request_headers: Record<string, string>;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error_kind: string | null;
  error: string | null;
}

@ObjectType({ description: 'One event to one subscription.' })
export class Delivery {
  @Field(() => ID)
  id!: string;

  @Field(() => DeliveryStatus)
  status!: DeliveryStatus;

  @Field(() => Int)
  attemptCount!: number;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is due (RETRYING, or PENDING after a retry).' })
  nextAttemptAt!: Date | null;

  @Field(() => Int, { nullable: true })
  lastResponseStatus!: number | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  eventId!: string;
  webhookSubscriptionId!: string;

  static fromRow(row: DeliveryRecord): Delivery {
    return Object.assign(new Delivery(), {
      id: row.id,
      status: row.status,
      attemptCount: row.attempt_count,
      nextAttemptAt: asDate(row.next_attempt_at),
      lastResponseStatus: row.last_response_status,
      lastError: row.last_error,
      createdAt: asDate(row.created_at),
      updatedAt: asDate(row.updated_at),
      eventId: row.event_id,
      webhookSubscriptionId: row.webhook_subscription_id,
    });
  }
}

export interface DeliveryRecord {
  id: string;
  event_id: string;
  webhook_subscription_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: Date | string | null;
  last_response_status: number | null;
  last_error: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export const DELIVERY_COLUMNS = 'id, event_id, webhook_subscription_id, status, attempt_count, next_attempt_at, last_response_status, last_error, created_at, updated_at';

export const DeliveryConnection = connectionType('Delivery', Delivery);

/** Deliveries of the caller's tenant by id, batched per request; other tenants' ids give null. */
export async function loadDelivery(context: Context, id: string): Promise<Delivery | null> {
  if (!isUuid(id)) return null;
  const tenantId = tenantOf(context);
  const loader = context.loader<string, Delivery | null>(`delivery:${tenantId}`, async (ids) => {
    const rows = await deliveriesById(context.services.pool, tenantId, ids);
    return ids.map((key) => rows.get(key) ?? null);
  });
  return loader.load(id);
}

export async function deliveriesById(db: SqlExecutor, tenantId: string, ids: readonly string[]): Promise<Map<string, Delivery>> {
  const { rows } = await db.query<DeliveryRecord>(`select ${DELIVERY_COLUMNS} from delivery where tenant_id = $1 and id = any($2::uuid[])`, [tenantId, ids]);
  return new Map(rows.map((row) => [row.id, Delivery.fromRow(row)]));
}

@InputType({ description: 'All given conditions must hold.' })
export class DeliveryFilter {
  @Field(() => ID, { nullable: true })
  webhookSubscriptionId?: string | null;

  @Field(() => ID, { nullable: true })
  eventId?: string | null;

  @Field(() => [DeliveryStatus], { nullable: true })
  statuses?: DeliveryStatus[] | null;

  @Field(() => Date, { nullable: true, description: 'Only deliveries created at or after this time.' })
  createdSince?: Date | null;
}

@InputType()
export class DeliveryRetryInput {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
export class DeliveryPayload {
  @Field(() => Delivery, { nullable: true })
  delivery?: Delivery | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@InputType()
export class WebhookSubscriptionReplayInput {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Re-deliver deliveries created at or after this time.' })
  since!: Date;

  @Field(() => Date, { nullable: true, description: 'And before this time (default: now).' })
  until?: Date | null;

  @Field(() => Boolean, { nullable: true, description: 'Only FAILED deliveries (default: every finished one: SUCCEEDED, FAILED, CANCELLED).' })
  onlyFailed?: boolean | null;
}

@ObjectType()
export class WebhookSubscriptionReplayPayload {
  @Field(() => Int, { nullable: true, description: 'How many deliveries were queued again.' })
  count?: number | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@InputType()
export class WebhookSubscriptionTestInput {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
export class WebhookSubscriptionTestPayload {
  @Field(() => Event, { nullable: true, description: 'The `hookgraph.test` event; its one delivery goes to this subscription only.' })
  event?: Event | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

