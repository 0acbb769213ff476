import { isUuid } from '../domain/ids.js';
import * as attempts from '../store/attempts.js';
import * as deliveries from '../store/deliveries.js';
import * as events from '../store/events.js';
import * as webhookSubscriptions from '../store/webhook-subscriptions.js';
import { tenantOf } from './auth.js';
import type { Context } from './context.js';
import { Delivery, DeliveryAttempt } from './types/delivery.js';
import { Event } from './types/event.js';
import { WebhookSubscription } from './types/webhook-subscription.js';

/**
 * Rows by id, batched per request through `context.loader`: the ids asked for
 * while resolving a list are read in one query. Rows of the caller's tenant
 * only; another tenant's id, or a malformed one, gives null.
 */

/** Rows by their id, for lookups in the order the keys were asked. */
export function byId<T extends { id: string }>(rows: readonly T[]): Map<string, T> {
  return new Map(rows.map((row) => [row.id, row]));
}

/** One load of the caller's tenant through a loader named `kind`, whose batch reads rows with `read` and shapes them with `shape`. */
function loadOwn<R extends { id: string }, V>(
  context: Context,
  kind: string,
  id: string,
  read: (tenantId: string, ids: readonly string[]) => Promise<R[]>,
  shape: (row: R) => V,
): Promise<V | null> {
  if (!isUuid(id)) return Promise.resolve(null);
  const tenantId = tenantOf(context);
  const loader = context.loader<string, V | null>(`${kind}:${tenantId}`, async (ids) => {
    const rows = byId(await read(tenantId, ids));
    return ids.map((key) => {
      const row = rows.get(key);
      return row ? shape(row) : null;
    });
  });
  return loader.load(id);
}

export function loadDelivery(context: Context, id: string): Promise<Delivery | null> {
  return loadOwn(context, 'delivery', id, (tenantId, ids) => deliveries.byIds(context.services.db, tenantId, ids), Delivery.from);
}

export function loadEvent(context: Context, id: string): Promise<Event | null> {
  return loadOwn(context, 'event', id, (tenantId, ids) => events.byIds(context.services.db, tenantId, ids), Event.from);
}

export function loadWebhookSubscription(context: Context, id: string): Promise<WebhookSubscription | null> {
  return loadOwn(context, 'webhookSubscription', id, (tenantId, ids) => webhookSubscriptions.byIds(context.services.db, tenantId, ids), (row) => WebhookSubscription.from(row));
}

/** A delivery's attempts, first to last. Deliveries reach here only through tenant-checked queries, so their ids are the caller's. */
export function loadAttempts(context: Context, deliveryId: string): Promise<DeliveryAttempt[]> {
  const loader = context.loader<string, DeliveryAttempt[]>('deliveryAttempts', async (ids) => {
    const byDelivery = new Map<string, DeliveryAttempt[]>();
    for (const row of await attempts.forDeliveries(context.services.db, ids)) {
      const list = byDelivery.get(row.deliveryId) ?? [];
      list.push(DeliveryAttempt.from(row));
      byDelivery.set(row.deliveryId, list);
    }
    return ids.map((id) => byDelivery.get(id) ?? []);
  });
  return loader.load(deliveryId);
}
