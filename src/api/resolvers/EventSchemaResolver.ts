import { Arg, Authorized, Ctx, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { withUserErrors } from '../errors.js';
import { storableInput } from '../input-guard.js';
import { previewDelivery } from '../management/preview.js';
import { EventSchema, WebhookSubscriptionPreviewInput, WebhookSubscriptionPreviewPayload } from '../types/event-schema.js';

/** Payload shaping: the tenant's event schema, and dry runs of filters and payload queries. */
// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class EventSchemaResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => EventSchema, { description: "The tenant's event schema, generated from its event types: what payload queries select from, and what receivers generate handler types from." })
  async eventSchema(@Ctx() context: Context): Promise<EventSchema> {
    const { sdl } = await context.services.eventSchemas.forTenant(tenantOf(context));
    return { sdl };
  }

  @Authorized(ApiKeyScope.READ)
  @Mutation(() => WebhookSubscriptionPreviewPayload, { description: 'A dry run: whether an event would be delivered and the exact body it would carry, for a saved subscription or a filter and payload query given here. Nothing is stored or sent.' })
  async webhookSubscriptionPreview(
    @Arg('input', { description: 'The event to try, and the subscription (or filter and payload query) to try it with.' }) input: WebhookSubscriptionPreviewInput,
    @Ctx() context: Context,
  ): Promise<WebhookSubscriptionPreviewPayload> {
    const result = await withUserErrors(async () => ({ ...(await previewDelivery(context.services, tenantOf(context), input)), userErrors: [] }));
    // A refused preview would not be delivered either.
    return { matches: result.matches ?? false, reason: result.reason ?? null, body: result.body ?? null, userErrors: result.userErrors };
  }
}
