import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { MAX_BATCH, type PublishProblem, type Publisher } from '../../delivery/publish.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { userError, UserErrorCode, type UserError } from '../errors.js';
import { ConnectionArgs, connectionType, pageRequest, toConnection } from '../types/connection.js';
import { Delivery, DELIVERY_COLUMNS, DeliveryConnection, type DeliveryRecord } from '../types/delivery.js';
import { Event, EVENT_COLUMNS, EventFilter, EventPublishInput, EventPublishPayload, EventsPublishInput, EventsPublishPayload, loadEvent, type EventRow } from '../types/event.js';
import { JSONScalar } from '../types/scalars.js';
import { SqlWhere } from './sql-where.js';

const EventConnection = connectionType('Event', Event);

export function publisherOf(context: Context): Publisher {
  const publisher = context.services.publisher;
  if (!publisher) throw new Error('publishing is not available in this process');
  return publisher;
}

function toUserErrors(problems: readonly PublishProblem[], prefix: (index: number) => (string | number)[]): UserError[] {
  return problems.map((p) => userError([...prefix(p.index), ...p.path], UserErrorCode[p.code], p.message));
}

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver(() => Event)
export class EventResolver {
  @Authorized(ApiKeyScope.PUBLISH)
  @Mutation(() => EventPublishPayload, { description: 'Publishes one event and fans it out to every matching ENABLED subscription, atomically.' })
  async eventPublish(@Arg('input', { description: 'The event to publish.' }) input: EventPublishInput, @Ctx() context: Context): Promise<EventPublishPayload> {
    const result = await publisherOf(context).publish(tenantOf(context), [input]);
    if (!result.ok) return { event: null, userErrors: toUserErrors(result.problems, () => ['input']) };
    return { event: Event.fromRow(toRow(result.events[0])), userErrors: [] };
  }

  @Authorized(ApiKeyScope.PUBLISH)
  @Mutation(() => EventsPublishPayload, { description: `Publishes up to ${MAX_BATCH} events in one transaction; one bad event rejects the batch (field names its index).` })
  async eventsPublish(@Arg('input', { description: `The events to publish, 1–${MAX_BATCH}.` }) input: EventsPublishInput, @Ctx() context: Context): Promise<EventsPublishPayload> {
    if (input.events.length === 0) return { events: null, userErrors: [userError(['input', 'events'], UserErrorCode.REQUIRED, 'At least one event is required.')] };
    if (input.events.length > MAX_BATCH) {
      return { events: null, userErrors: [userError(['input', 'events'], UserErrorCode.TOO_LARGE, `At most ${MAX_BATCH} events per call (got ${input.events.length}).`)] };
    }
    const result = await publisherOf(context).publish(tenantOf(context), input.events);
    if (!result.ok) return { events: null, userErrors: toUserErrors(result.problems, (index) => ['input', 'events', index]) };
    return { events: result.events.map((e) => Event.fromRow(toRow(e))), userErrors: [] };
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => EventConnection, { description: "The tenant's events, newest first." })
  async events(@Args() args: ConnectionArgs, @Arg('filter', () => EventFilter, { nullable: true, description: 'Only events that match every condition given.' }) filter: EventFilter | null, @Ctx() context: Context) {
    const page = pageRequest(args);
    const where = new SqlWhere().add('tenant_id = ?', tenantOf(context));
    if (filter?.eventTypes?.length) where.add('event_type = any(?::text[])', filter.eventTypes);
    if (filter?.since) where.add('created_at >= ?', filter.since);
    if (filter?.until) where.add('created_at < ?', filter.until);
    if (page.beforeId) where.add('id < ?', page.beforeId);
    const { rows } = await context.services.pool.query<EventRow>(`select ${EVENT_COLUMNS} from event where ${where.sql} order by id desc limit ${page.limit}`, where.values);
    return toConnection(rows.map(Event.fromRow), page);
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => Event, { nullable: true, description: 'An event by id; null when there is none in this tenant.' })
  async event(@Arg('id', () => ID, { description: 'Id of the event.' }) id: string, @Ctx() context: Context): Promise<Event | null> {
    return loadEvent(context, id);
  }

  // Reachable from eventPublish's payload: a PUBLISH-only key reads back what it published, not what it may not read (FORBIDDEN at this field).
  @Authorized(ApiKeyScope.READ)
  @FieldResolver(() => JSONScalar, { nullable: true, description: 'The published payload (the `data` of the body). Needs READ: null with a FORBIDDEN error for a PUBLISH-only key.' })
  payload(@Root() event: Event): unknown {
    return (JSON.parse(event.body) as { data: unknown }).data;
  }

  @Authorized(ApiKeyScope.READ)
  @FieldResolver(() => DeliveryConnection, { nullable: true, description: 'One delivery per subscription the event matched, newest first. Needs READ: null with a FORBIDDEN error for a PUBLISH-only key.' })
  async deliveries(@Root() event: Event, @Args() args: ConnectionArgs, @Ctx() context: Context) {
    const page = pageRequest(args);
    const where = new SqlWhere().add('tenant_id = ?', tenantOf(context)).add('event_id = ?', event.id);
    if (page.beforeId) where.add('id < ?', page.beforeId);
    const { rows } = await context.services.pool.query<DeliveryRecord>(`select ${DELIVERY_COLUMNS} from delivery where ${where.sql} order by id desc limit ${page.limit}`, where.values);
    return toConnection(rows.map(Delivery.fromRow), page);
  }
}

function toRow(e: { id: string; eventType: string; body: string; idempotencyKey: string | null; occurredAt: Date; createdAt: Date }): EventRow {
  return { id: e.id, event_type: e.eventType, body: e.body, idempotency_key: e.idempotencyKey, occurred_at: e.occurredAt, created_at: e.createdAt };
}

