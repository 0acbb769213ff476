import { Arg, Args, ArgsType, Authorized, Ctx, Field, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { isValidEventTypeName } from '../../domain/patterns.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { withUserErrors } from '../errors.js';
import { archiveEventType, createEventType, findEventType, listEventTypes, updateEventType } from '../management/event-types.js';
import { ConnectionArgs, connectionType, pageRequest, toConnection } from '../types/connection.js';
import { EventType, EventTypeArchiveInput, EventTypeCreateInput, EventTypePayload, EventTypeUpdateInput } from '../types/event-type.js';

const EventTypeConnection = connectionType('EventType', EventType);

@ArgsType()
class EventTypesArgs extends ConnectionArgs {
  @Field(() => Boolean, { nullable: true, description: 'Include archived types (default false).' })
  includeArchived?: boolean | null;
}

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class EventTypeResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => EventTypeConnection, { description: "The tenant's event types, newest first; hookgraph's own (`system: true`, e.g. `hookgraph.delivery.failed`) come last." })
  async eventTypes(@Args() args: EventTypesArgs, @Ctx() context: Context) {
    const page = pageRequest(args);
    const rows = await listEventTypes(context.services.db, tenantOf(context), { includeArchived: args.includeArchived }, page);
    return toConnection(rows.map((row) => EventType.from(row)), page);
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => EventType, { nullable: true, description: 'An event type by name (archived ones too); null when there is none.' })
  async eventType(@Arg('name', { description: 'Exact name of the event type, e.g. `order.created`.' }) name: string, @Ctx() context: Context): Promise<EventType | null> {
    if (!isValidEventTypeName(name)) return null;
    const row = await findEventType(context.services.db, tenantOf(context), name);
    return row ? EventType.from(row) : null;
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => EventTypePayload, { description: 'Creates an event type; its optional JSON Schema is checked now and applied to every published payload.' })
  async eventTypeCreate(@Arg('input', { description: 'The name, description and optional JSON Schema of the event type.' }) input: EventTypeCreateInput, @Ctx() context: Context): Promise<EventTypePayload> {
    const result = await withUserErrors(async () => ({ eventType: EventType.from(await createEventType(context.services.db, tenantOf(context), input)), warnings: [], userErrors: [] }));
    return { ...result, warnings: result.warnings ?? [] };
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => EventTypePayload, { description: 'Changes description or schema, or archives/restores (archived: true/false).' })
  async eventTypeUpdate(@Arg('input', { description: 'The event type to change and the fields to change.' }) input: EventTypeUpdateInput, @Ctx() context: Context): Promise<EventTypePayload> {
    const result = await withUserErrors(async () => {
      const { eventType, warnings } = await updateEventType(context.services.db, tenantOf(context), input);
      return { eventType: EventType.from(eventType), warnings, userErrors: [] };
    });
    return { ...result, warnings: result.warnings ?? [] };
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => EventTypePayload, { description: 'Archives an event type: new events of it are refused, history stays.' })
  async eventTypeArchive(@Arg('input', { description: 'The event type to archive.' }) input: EventTypeArchiveInput, @Ctx() context: Context): Promise<EventTypePayload> {
    const result = await withUserErrors(async () => {
      const { eventType, warnings } = await archiveEventType(context.services.db, tenantOf(context), input.name);
      return { eventType: EventType.from(eventType), warnings, userErrors: [] };
    });
    return { ...result, warnings: result.warnings ?? [] };
  }
}
