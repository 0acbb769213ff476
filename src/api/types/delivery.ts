import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DeliveryStatus } from '../../domain/entities/Delivery.js';
import { recordedHeaders } from '../../delivery/request.js';
import type * as attempts from '../../store/attempts.js';
import type * as deliveries from '../../store/deliveries.js';
import { UserError } from '../errors.js';
import { connectionType } from './connection.js';
import { Event } from './event.js';
import { JSONScalar } from './scalars.js';

registerEnumType(DeliveryStatus, {
  name: 'DeliveryStatus',
  description: 'PENDING (not tried yet), SENDING (attempt in flight), SUCCEEDED (2xx), RETRYING (failed, next attempt scheduled), FAILED (no more attempts), CANCELLED (subscription no longer enabled).',
  valuesConfig: {
    PENDING: { description: 'Waiting for its first attempt, or queued again by a retry or replay.' },
    SENDING: { description: 'An attempt is in flight.' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    RETRYING: { description: 'The latest attempt failed; the next one is due at `nextAttemptAt`.' },
    FAILED: { description: 'The last attempt of HOOKGRAPH_RETRY_SCHEDULE failed, or the receiver answered 410 Gone; no more attempts.' },
    CANCELLED: { description: 'Not sent: its subscription was no longer enabled when it came due.' },
  },
});

@ObjectType({ description: 'One HTTP try of a delivery.' })
export class DeliveryAttempt {
  @Field(() => ID, { description: 'Unique id of the attempt.' })
  id!: string;

  @Field(() => Int, { description: '1 for the first try.' })
  attemptNumber!: number;

  @Field({ description: 'When the request was started.' })
  startedAt!: Date;

  @Field(() => Int, { description: 'Milliseconds from the start of the request to the end of the response (its first 4 KiB) or to the error.' })
  durationMs!: number;

  @Field(() => JSONScalar, { description: 'Headers sent, signatures included; every custom header value `[redacted]` (they are secrets).' })
  requestHeaders!: Record<string, string>;

  @Field(() => Int, { nullable: true, description: 'HTTP status of the response; null when no response arrived.' })
  responseStatus!: number | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Headers of the response (names in lowercase, repeated ones joined with ", "); null when no response arrived.' })
  responseHeaders!: Record<string, string> | null;

  @Field(() => String, { nullable: true, description: 'First 4 KiB of the response body.' })
  responseBody!: string | null;

  @Field(() => String, { nullable: true, description: 'HTTP_STATUS, TIMEOUT, CONNECTION, DNS, TLS, BLOCKED_TARGET, INVALID_URL; null on success.' })
  errorKind!: string | null;

  @Field(() => String, { nullable: true, description: 'What went wrong, in words; null on success.' })
  error!: string | null;

  static from(row: attempts.AttemptRow): DeliveryAttempt {
    return Object.assign(new DeliveryAttempt(), {
      id: row.id,
      attemptNumber: row.attemptNumber,
      startedAt: row.startedAt,
      durationMs: row.durationMs,
      // Stored already redacted; a trace-context-shaped traceparent on a stored attempt is hookgraph's.
      requestHeaders: recordedHeaders(row.requestHeaders, true),
      responseStatus: row.responseStatus,
      responseHeaders: row.responseHeaders,
      responseBody: row.responseBody,
      errorKind: row.errorKind,
      error: row.error,
    });
  }
}

@ObjectType({ description: 'One event to one subscription.' })
export class Delivery {
  @Field(() => ID, { description: 'Unique id of the delivery.' })
  id!: string;

  @Field(() => DeliveryStatus, { description: 'Where the delivery stands now.' })
  status!: DeliveryStatus;

  @Field(() => Int, { description: 'HTTP attempts finished so far; an attempt in flight (SENDING) is not counted yet.' })
  attemptCount!: number;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is due (RETRYING, or PENDING after a retry).' })
  nextAttemptAt!: Date | null;

  @Field(() => Int, { nullable: true, description: "HTTP status of the latest attempt's response; null before the first attempt or when no response arrived." })
  lastResponseStatus!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the latest attempt failed, or why the delivery was cancelled; null when nothing has failed or the latest attempt succeeded.' })
  lastError!: string | null;

  @Field({ description: 'When the delivery was created, in the transaction that published its event.' })
  createdAt!: Date;

  @Field({ description: "When the delivery's status, attempt count or schedule last changed." })
  updatedAt!: Date;

  eventId!: string;
  webhookSubscriptionId!: string;

  static from(row: deliveries.DeliveryRow): Delivery {
    return Object.assign(new Delivery(), {
      id: row.id,
      status: row.status,
      attemptCount: row.attemptCount,
      nextAttemptAt: row.nextAttemptAt,
      lastResponseStatus: row.lastResponseStatus,
      lastError: row.lastError,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      eventId: row.eventId,
      webhookSubscriptionId: row.webhookSubscriptionId,
    });
  }
}

export const DeliveryConnection = connectionType('Delivery', Delivery);

@InputType({ description: 'All given conditions must hold.' })
export class DeliveryFilter {
  @Field(() => ID, { nullable: true, description: 'Only deliveries to this subscription.' })
  webhookSubscriptionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only deliveries of this event.' })
  eventId?: string | null;

  @Field(() => [DeliveryStatus], { nullable: true, description: 'Only deliveries in one of these statuses.' })
  statuses?: DeliveryStatus[] | null;

  @Field(() => Date, { nullable: true, description: 'Only deliveries created at or after this time.' })
  createdSince?: Date | null;
}

@InputType({ description: 'The delivery to retry.' })
export class DeliveryRetryInput {
  @Field(() => ID, { description: 'Id of a FAILED or RETRYING delivery.' })
  id!: string;
}

@ObjectType({ description: 'Result of deliveryRetry.' })
export class DeliveryPayload {
  @Field(() => Delivery, { nullable: true, description: 'The delivery as it is now; null when userErrors is not empty.' })
  delivery?: Delivery | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}

@InputType({ description: 'The subscription and the time range of deliveries to send again.' })
export class WebhookSubscriptionReplayInput {
  @Field(() => ID, { description: 'Id of the subscription whose deliveries are sent again.' })
  id!: string;

  @Field({ description: 'Re-deliver deliveries created at or after this time.' })
  since!: Date;

  @Field(() => Date, { nullable: true, description: 'And before this time (default: now).' })
  until?: Date | null;

  @Field(() => Boolean, { nullable: true, description: 'Only FAILED deliveries (default: every finished one: SUCCEEDED, FAILED, CANCELLED).' })
  onlyFailed?: boolean | null;
}

@ObjectType({ description: 'Result of webhookSubscriptionReplay.' })
export class WebhookSubscriptionReplayPayload {
  @Field(() => Int, { nullable: true, description: 'How many deliveries were queued again.' })
  count?: number | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was queued.' })
  userErrors!: UserError[];
}

@InputType({ description: 'The subscription to send a test event to.' })
export class WebhookSubscriptionTestInput {
  @Field(() => ID, { description: 'Id of an ENABLED subscription.' })
  id!: string;
}

@ObjectType({ description: 'Result of webhookSubscriptionTest.' })
export class WebhookSubscriptionTestPayload {
  @Field(() => Event, { nullable: true, description: 'The `hookgraph.test` event; its one delivery goes to this subscription only.' })
  event?: Event | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was published.' })
  userErrors!: UserError[];
}

