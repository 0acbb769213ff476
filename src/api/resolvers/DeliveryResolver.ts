import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { isUuid } from '../../domain/ids.js';
import type { DeliveryOperations } from '../../delivery/operations.js';
import * as deliveries from '../../store/deliveries.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { userError, UserErrorCode } from '../errors.js';
import { loadAttempts, loadDelivery, loadEvent, loadWebhookSubscription } from '../loaders.js';
import { ConnectionArgs, pageRequest, toConnection } from '../types/connection.js';
import { Delivery, DeliveryAttempt, DeliveryConnection, DeliveryFilter, DeliveryPayload, DeliveryRetryInput } from '../types/delivery.js';
import { Event } from '../types/event.js';
import { WebhookSubscription } from '../types/webhook-subscription.js';

export function operationsOf(context: Context): DeliveryOperations {
  return context.services.operations;
}

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver(() => Delivery)
export class DeliveryResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => DeliveryConnection, { description: "The tenant's deliveries, newest first." })
  async deliveries(@Args() args: ConnectionArgs, @Arg('filter', () => DeliveryFilter, { nullable: true, description: 'Only deliveries that match every condition given.' }) filter: DeliveryFilter | null, @Ctx() context: Context) {
    const page = pageRequest(args);
    const rows = await deliveries.page(context.services.db, tenantOf(context), filter, page);
    return toConnection(rows.map(Delivery.from), page);
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => Delivery, { nullable: true, description: 'A delivery by id; null when there is none in this tenant.' })
  async delivery(@Arg('id', () => ID, { description: 'Id of the delivery.' }) id: string, @Ctx() context: Context): Promise<Delivery | null> {
    return loadDelivery(context, id);
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => DeliveryPayload, { description: 'Tries a FAILED delivery once more now, or moves a RETRYING delivery\'s next attempt to now.' })
  async deliveryRetry(@Arg('input', { description: 'The delivery to retry.' }) input: DeliveryRetryInput, @Ctx() context: Context): Promise<DeliveryPayload> {
    if (!isUuid(input.id)) return { delivery: null, userErrors: [userError(['input', 'id'], UserErrorCode.NOT_FOUND, 'No delivery with this id.')] };
    const result = await operationsOf(context).retry(tenantOf(context), input.id);
    if (!result.ok) return { delivery: null, userErrors: [userError(['input', 'id'], UserErrorCode[result.code], result.message)] };
    return { delivery: await loadDelivery(context, input.id), userErrors: [] };
  }

  @FieldResolver(() => Event, { description: 'The event this delivery sends.' })
  async event(@Root() delivery: Delivery, @Ctx() context: Context): Promise<Event> {
    const event = await loadEvent(context, delivery.eventId);
    if (!event) throw new Error(`event ${delivery.eventId} of delivery ${delivery.id} is missing`);
    return event;
  }

  @FieldResolver(() => WebhookSubscription, { description: 'The subscription this delivery goes to.' })
  async webhookSubscription(@Root() delivery: Delivery, @Ctx() context: Context): Promise<WebhookSubscription> {
    const subscription = await loadWebhookSubscription(context, delivery.webhookSubscriptionId);
    if (!subscription) throw new Error(`subscription ${delivery.webhookSubscriptionId} of delivery ${delivery.id} is missing`);
    return subscription;
  }

  @FieldResolver(() => [DeliveryAttempt], { description: 'Every HTTP try, first to last.' })
  async attempts(@Root() delivery: Delivery, @Ctx() context: Context): Promise<DeliveryAttempt[]> {
    return loadAttempts(context, delivery.id);
  }
}
