import { Arg, Args, ArgsType, Authorized, Ctx, Field, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { WebhookSubscriptionStatus } from '../../domain/entities/WebhookSubscription.js';
import { isValidEventTypeName, patternMatches } from '../../domain/patterns.js';
import * as webhookSubscriptions from '../../store/webhook-subscriptions.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { badUserInput, withUserErrors } from '../errors.js';
import {
  createWebhookSubscription,
  deleteWebhookSubscription,
  rotateWebhookSubscriptionSecret,
  updateWebhookSubscription,
} from '../management/webhook-subscriptions.js';
import { loadWebhookSubscription } from '../loaders.js';
import { ConnectionArgs, connectionType, pageRequest, toConnection } from '../types/connection.js';
import {
  WebhookSubscription,
  WebhookSubscriptionCreateInput,
  WebhookSubscriptionCreatePayload,
  WebhookSubscriptionDeleteInput,
  WebhookSubscriptionDeletePayload,
  WebhookSubscriptionPayload,
  WebhookSubscriptionRotateSecretInput,
  WebhookSubscriptionRotateSecretPayload,
  WebhookSubscriptionUpdateInput,
} from '../types/webhook-subscription.js';

const WebhookSubscriptionConnection = connectionType('WebhookSubscription', WebhookSubscription);

@ArgsType()
class WebhookSubscriptionsArgs extends ConnectionArgs {
  @Field(() => [WebhookSubscriptionStatus], { nullable: true, description: 'Only subscriptions in these statuses.' })
  statuses?: WebhookSubscriptionStatus[] | null;

  @Field(() => String, { nullable: true, description: 'Only subscriptions that would receive this event type (through an exact name or a pattern).' })
  eventType?: string | null;
}

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class WebhookSubscriptionResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => WebhookSubscriptionConnection, { description: "The tenant's webhook subscriptions, newest first." })
  async webhookSubscriptions(@Args() args: WebhookSubscriptionsArgs, @Ctx() context: Context) {
    const page = pageRequest(args);
    const tenantId = tenantOf(context);
    let patterns: string[] | undefined;
    if (args.eventType !== undefined && args.eventType !== null) {
      if (!isValidEventTypeName(args.eventType)) throw badUserInput('eventType', 'is not a valid event type name');
      // The tenant's distinct patterns are few: match them here, then filter by array overlap (indexable, exact).
      patterns = (await webhookSubscriptions.patterns(context.services.db, tenantId)).filter((pattern) => patternMatches(pattern, args.eventType!));
      if (patterns.length === 0) return toConnection([], page);
    }
    const rows = await webhookSubscriptions.page(context.services.db, tenantId, { statuses: args.statuses, patterns }, page);
    const now = new Date();
    return toConnection(rows.map((row) => WebhookSubscription.from(row, now)), page);
  }

  @Authorized(ApiKeyScope.READ)
  @Query(() => WebhookSubscription, { nullable: true, description: 'A subscription by id; null when there is none in this tenant.' })
  async webhookSubscription(@Arg('id', () => ID, { description: 'Id of the subscription.' }) id: string, @Ctx() context: Context): Promise<WebhookSubscription | null> {
    return loadWebhookSubscription(context, id);
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => WebhookSubscriptionCreatePayload, { description: 'Creates a subscription; the signing secret is returned only here.' })
  async webhookSubscriptionCreate(@Arg('input', { description: 'The url, event types and options of the subscription.' }) input: WebhookSubscriptionCreateInput, @Ctx() context: Context): Promise<WebhookSubscriptionCreatePayload> {
    const result = await withUserErrors(async () => {
      const created = await createWebhookSubscription(context.services, tenantOf(context), input);
      return { webhookSubscription: WebhookSubscription.from(created.subscription), secret: created.secret, warnings: created.warnings, userErrors: [] };
    });
    return { ...result, warnings: result.warnings ?? [] };
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => WebhookSubscriptionPayload, { description: 'Changes a subscription; only the fields given change. Status changes are published to webhookSubscriptionUpdated.' })
  async webhookSubscriptionUpdate(@Arg('input', { description: 'The subscription to change and the fields to change.' }) input: WebhookSubscriptionUpdateInput, @Ctx() context: Context): Promise<WebhookSubscriptionPayload> {
    const result = await withUserErrors(async () => {
      const updated = await updateWebhookSubscription(context.services, tenantOf(context), input);
      return { webhookSubscription: WebhookSubscription.from(updated.subscription), warnings: updated.warnings, userErrors: [] };
    });
    return { ...result, warnings: result.warnings ?? [] };
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => WebhookSubscriptionDeletePayload, { description: 'Deletes a subscription and its delivery history; pending deliveries are not sent.' })
  async webhookSubscriptionDelete(@Arg('input', { description: 'The subscription to delete.' }) input: WebhookSubscriptionDeleteInput, @Ctx() context: Context): Promise<WebhookSubscriptionDeletePayload> {
    return withUserErrors(async () => ({ deletedWebhookSubscriptionId: await deleteWebhookSubscription(context.services.db, tenantOf(context), input.id), userErrors: [] }));
  }

  @Authorized(ApiKeyScope.ADMIN)
  @Mutation(() => WebhookSubscriptionRotateSecretPayload, {
    description: 'Replaces the signing secret; the previous one stays valid for the grace period (deliveries carry both signatures). The new secret is returned only here.',
  })
  async webhookSubscriptionRotateSecret(
    @Arg('input', { description: 'The subscription, an optional new secret and the grace period of the previous one.' }) input: WebhookSubscriptionRotateSecretInput,
    @Ctx() context: Context,
  ): Promise<WebhookSubscriptionRotateSecretPayload> {
    return withUserErrors(async () => {
      const rotated = await rotateWebhookSubscriptionSecret(context.services.db, context.services.secretKey, tenantOf(context), input);
      return { webhookSubscription: WebhookSubscription.from(rotated.subscription), secret: rotated.secret, userErrors: [] };
    });
  }
}
