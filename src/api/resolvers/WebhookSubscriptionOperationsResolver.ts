import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import * as webhookSubscriptions from '../../store/webhook-subscriptions.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { userError, UserErrorCode } from '../errors.js';
import { WebhookSubscriptionReplayInput, WebhookSubscriptionReplayPayload, WebhookSubscriptionTestInput, WebhookSubscriptionTestPayload } from '../types/delivery.js';
import { Event } from '../types/event.js';
import { operationsOf } from './DeliveryResolver.js';

/** Delivery operations on a subscription: send a test event, replay a time range. */
// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class WebhookSubscriptionOperationsResolver {
  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => WebhookSubscriptionTestPayload, { description: 'Publishes a `hookgraph.test` event delivered to this subscription only (patterns and filter do not apply).' })
  async webhookSubscriptionTest(@Arg('input', { description: 'The subscription to send the test event to.' }) input: WebhookSubscriptionTestInput, @Ctx() context: Context): Promise<WebhookSubscriptionTestPayload> {
    const subscription = await webhookSubscriptions.deliveryState(context.services.db, tenantOf(context), input.id);
    if (!subscription) return { event: null, userErrors: [userError(['input', 'id'], UserErrorCode.NOT_FOUND, 'No webhook subscription with this id.')] };
    if (subscription.status !== 'ENABLED') {
      return { event: null, userErrors: [userError(['input', 'id'], UserErrorCode.INVALID_STATE, `The subscription is ${subscription.status}; enable it to send a test event.`)] };
    }
    const event = await context.services.publisher.publishTest(tenantOf(context), subscription);
    return { event: Event.from({ ...event, idempotencyKey: null }), userErrors: [] };
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => WebhookSubscriptionReplayPayload, { description: 'Delivers the subscription\'s finished deliveries created in [since, until) once more (at most 10,000 per call).' })
  async webhookSubscriptionReplay(@Arg('input', { description: 'The subscription and the time range of its deliveries to send again.' }) input: WebhookSubscriptionReplayInput, @Ctx() context: Context): Promise<WebhookSubscriptionReplayPayload> {
    const subscription = await webhookSubscriptions.deliveryState(context.services.db, tenantOf(context), input.id);
    if (!subscription) return { count: null, userErrors: [userError(['input', 'id'], UserErrorCode.NOT_FOUND, 'No webhook subscription with this id.')] };
    const until = input.until ?? new Date();
    if (until.getTime() <= input.since.getTime()) return { count: null, userErrors: [userError(['input', 'until'], UserErrorCode.INVALID, 'until must be after since.')] };
    const count = await operationsOf(context).replay(tenantOf(context), subscription.id, input.since, until, input.onlyFailed ?? false);
    return { count, userErrors: [] };
  }
}
