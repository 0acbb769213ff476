import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { MAX_BATCH, type PublishProblem } from '../../delivery/publish.js';
import * as deliveries from '../../store/deliveries.js';
import * as events from '../../store/events.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { userError, UserErrorCode, type UserError } from '../errors.js';
import { loadEvent } from '../loaders.js';
import { ConnectionArgs, connectionType, pageRequest, toConnection } from '../types/connection.js';
import { Delivery, DeliveryConnection } from '../types/delivery.js';
import { Event, EventFilter, EventPublishInput, EventPublishPayload, EventsPublishInput, EventsPublishPayload } from '../types/event.js';
import { JSONScalar } from '../types/scalars.js';

const EventConnection = connectionType('Event', Event);

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
    const result = await context.services.publisher.publish(tenantOf(context), [input]);
    if (!result.ok) return { event: null, userErrors: toUserErrors(result.problems, () => ['input']) };
    return { event: Event.from(result.events[0]), userErrors: [] };
  }

  @Authorized(ApiKeyScope.PUBLISH)
  @Mutation(() => EventsPublishPayload, { description: `Publishes up to ${MAX_BATCH} events in one transaction; one bad event rejects the batch (field names its index).` })
  async eventsPublish(@Arg('input', { description: `The events to publish, 1–${MAX_BATCH}.` }) input: EventsPublishInput, @Ctx() context: Context): Promise<EventsPublishPayload> {
    if (input.events.length === 0) return { events: null, userErrors: [userError(['input', 'events'], UserErrorCode.REQUIRED, 'At least one event is required.')] };
    if (input.events.length > MAX_BATCH) {
      return { events: null, userErrors: [userError(['input', 'events'], UserErrorCode.TOO_LARGE, `At most ${MAX_BATCH} events per call (got ${input.events.length}).`)] };
    }
    const result = await context.services.publisher.publish(tenantOf(context), input.events);
    if (!result.ok) return { events: null, userErrors: toUserErrors(result.problems, (index) => ['input', 'events', index]) };
    return { events: result.events.map(Event.from), userErrors: [] };
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => EventConnection, { description: "The tenant's events, newest first." })
  async events(@Args() args: ConnectionArgs, @Arg('filter', () => EventFilter, { nullable: true, description: 'Only events that match every condition given.' }) filter: EventFilter | null, @Ctx() context: Context) {
    const page = pageRequest(args);
    const rows = await events.page(context.services.db, tenantOf(context), filter, page);
    return toConnection(rows.map(Event.from), page);
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
    const rows = await deliveries.page(context.services.db, tenantOf(context), { eventId: event.id }, page);
    return toConnection(rows.map(Delivery.from), page);
  }
}
