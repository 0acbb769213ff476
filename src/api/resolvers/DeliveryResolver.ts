import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { DeliveryStatus } from '../../domain/entities/Delivery.js';
import { isUuid } from '../../domain/ids.js';
import { DeliveryOperations } from '../../delivery/operations.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { userError, UserErrorCode } from '../errors.js';
import { ConnectionArgs, pageRequest, toConnection } from '../types/connection.js';
import {
  Delivery,
  DeliveryAttempt,
  DELIVERY_COLUMNS,
  DeliveryConnection,
  DeliveryFilter,
  DeliveryPayload,
  DeliveryRetryInput,
  loadDelivery,
  type AttemptRow,
  type DeliveryRecord,
} from '../types/delivery.js';
import { Event, loadEvent } from '../types/event.js';
import { loadWebhookSubscription, WebhookSubscription } from '../types/webhook-subscription.js';
import { SqlWhere } from './sql-where.js';

/** The statuses the generated column `delivery.attention` is true for. */
const ATTENTION: ReadonlySet<string> = new Set([DeliveryStatus.FAILED, DeliveryStatus.RETRYING, DeliveryStatus.CANCELLED]);

export function operationsOf(context: Context): DeliveryOperations {
  const { pool, boss, config } = context.services;
  if (!boss) throw new Error('the queue is not available in this process');
  return new DeliveryOperations({ pool, boss, config });
}

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver(() => Delivery)
export class DeliveryResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => DeliveryConnection, { description: "The tenant's deliveries, newest first." })
  async deliveries(@Args() args: ConnectionArgs, @Arg('filter', () => DeliveryFilter, { nullable: true, description: 'Only deliveries that match every condition given.' }) filter: DeliveryFilter | null, @Ctx() context: Context) {
    const page = pageRequest(args);
    // Malformed ids cannot exist: an empty page, like another tenant's id.
    if ((filter?.webhookSubscriptionId && !isUuid(filter.webhookSubscriptionId)) || (filter?.eventId && !isUuid(filter.eventId))) return toConnection([], page);
    const where = new SqlWhere().add('tenant_id = ?', tenantOf(context));
    if (filter?.webhookSubscriptionId) where.add('webhook_subscription_id = ?', filter.webhookSubscriptionId);
    if (filter?.eventId) where.add('event_id = ?', filter.eventId);
    if (filter?.statuses?.length) {
      where.add('status = any(?::text[])', filter.statuses);
      // Lets the planner use the partial indexes on `attention` (see the Delivery entity); the status test above stays exact.
      if (filter.statuses.every((s) => ATTENTION.has(s))) where.raw('attention');
    }
    if (filter?.createdSince) where.add('created_at >= ?', filter.createdSince);
    if (page.beforeId) where.add('id < ?', page.beforeId);
    const { rows } = await context.services.pool.query<DeliveryRecord>(`select ${DELIVERY_COLUMNS} from delivery where ${where.sql} order by id desc limit ${page.limit}`, where.values);
    return toConnection(rows.map(Delivery.fromRow), page);
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
    const loader = context.loader<string, DeliveryAttempt[]>('deliveryAttempts', async (ids) => {
      // Deliveries reach here only through tenant-checked queries, so their ids are the caller's.
      const { rows } = await context.services.pool.query<AttemptRow>(
        'select * from delivery_attempt where delivery_id = any($1::uuid[]) order by delivery_id, attempt_number, started_at',
        [ids],
      );
      const byDelivery = new Map<string, DeliveryAttempt[]>();
      for (const row of rows) {
        const list = byDelivery.get(row.delivery_id) ?? [];
        list.push(DeliveryAttempt.fromRow(row));
        byDelivery.set(row.delivery_id, list);
      }
      return ids.map((id) => byDelivery.get(id) ?? []);
    });
    return loader.load(delivery.id);
  }
}
