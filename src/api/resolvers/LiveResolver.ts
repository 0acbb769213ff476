import { Arg, Authorized, ID, Resolver, Root, Subscription, type ResolverData, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { WebhookSubscription as WebhookSubscriptionEntity } from '../../domain/entities/WebhookSubscription.js';
import { isUuid } from '../../domain/ids.js';
import { anyPatternMatches, patternProblem } from '../../domain/patterns.js';
import type { LiveMessage } from '../../live/announce.js';
import type { Live } from '../../live/live.js';
import type { LiveTopic } from '../../live/pubsub.js';
import { liveStream, SharedLoader, uuidv7Time } from '../../live/stream.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { badUserInput } from '../errors.js';
import { Delivery, DELIVERY_COLUMNS, DeliveryFilter, deliveriesById, type DeliveryRecord } from '../types/delivery.js';
import { Event, eventsById } from '../types/event.js';
import { WebhookSubscription } from '../types/webhook-subscription.js';

type Message<K extends LiveMessage['kind']> = Extract<LiveMessage, { kind: K }>;

/** Most deliveries replayed by `deliveryUpdated(since:)`; older changes are for the `deliveries` query. */
export const MAX_REPLAY = 1000;

/** One set of shared loaders per process (per Live), reused by every subscriber. */
const loadersOf = new WeakMap<Live, ReturnType<typeof createLoaders>>();

function createLoaders(context: Context) {
  const { pool, orm } = context.services;
  return {
    // status and attemptCount are those of the announced change: every transition reaches the client, in order.
    delivery: new SharedLoader<Message<'delivery'>, Delivery>(
      (tenantId, ids) => deliveriesById(pool, tenantId, ids),
      (message, row) => Object.assign(new Delivery(), row, { status: message.status, attemptCount: message.attemptCount }),
    ),
    event: new SharedLoader<Message<'event'>, Event>((tenantId, ids) => eventsById(pool, tenantId, ids)),
    webhookSubscription: new SharedLoader<Message<'webhookSubscription'>, WebhookSubscription>(async (tenantId, ids) => {
      const rows = await orm.em.fork().find(WebhookSubscriptionEntity, { id: { $in: ids }, tenant: tenantId });
      return new Map(rows.map((row) => [row.id, WebhookSubscription.from(row)]));
    }),
  };
}

function loaders(context: Context) {
  const live = liveOf(context);
  let found = loadersOf.get(live);
  if (!found) loadersOf.set(live, (found = createLoaders(context)));
  return found;
}

function liveOf(context: Context): Live {
  const live = context.services.live;
  if (!live) throw new Error('live updates are not running in this process (worker role)');
  return live;
}

/** A subscription to `topic` for the caller's tenant; a client that cannot keep up is disconnected. */
function subscribe<T extends LiveTopic>(context: Context, topic: T) {
  const live = liveOf(context);
  const socket = context.socket;
  return live.pubsub.subscribe(topic, tenantOf(context), {
    onOverflow: () => {
      if (socket) live.connections.dropSlow(socket);
    },
  });
}

type Args<T> = ResolverData<Context> & { args: T };

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class LiveResolver {
  @Authorized(ApiKeyScope.READ)
  @Subscription(() => Delivery, {
    description:
      "Every status change of the tenant's deliveries, in commit order, narrowed by `filter`. `status` and `attemptCount` are " +
      'those of the change; other fields, and nested ones, are read when the update is sent. Delivery is at-least-once: ' +
      'an update may repeat. To catch up after a reconnect, pass `since` (the time of the last update you saw, minus a ' +
      `few seconds): the current state of every matching delivery updated since then (at most ${MAX_REPLAY}, the most ` +
      'recent) is sent first, then changes stream live; for a longer gap use the `deliveries` query.',
    subscribe: (async ({ args, context }: Args<{ filter?: DeliveryFilter | null; since?: Date | null }>) => {
      const filter = args.filter ?? {};
      const { delivery } = loaders(context);
      const source = subscribe(context, 'delivery'); // before the replay read, so nothing falls in between
      const matches = deliveryMatcher(filter);
      const replay = args.since ? await replayDeliveries(context, filter, args.since) : [];
      return liveStream(
        source,
        async (message) => {
          if (!matches(message)) return undefined;
          return delivery.load(message);
        },
        replay,
      );
    }) as never,
  })
  deliveryUpdated(
    @Root() delivery: Delivery,
    @Arg('filter', () => DeliveryFilter, { nullable: true, description: 'Only changes of deliveries that match every condition given.' }) _filter?: DeliveryFilter,
    @Arg('since', () => Date, { nullable: true, description: 'Replay deliveries updated at or after this time first (catch-up).' }) _since?: Date,
  ): Delivery {
    return delivery;
  }

  @Authorized(ApiKeyScope.READ)
  @Subscription(() => WebhookSubscription, {
    description:
      "Status changes of the tenant's webhook subscriptions (enabled, disabled, and FAILING_DISABLED when hookgraph turns one " +
      'off after failing too long); only the one with `id`, when given.',
    subscribe: (({ args, context }: Args<{ id?: string | null }>) => {
      const { webhookSubscription } = loaders(context);
      const id = args.id ?? undefined;
      return liveStream(subscribe(context, 'webhookSubscription'), async (message) => {
        if (id !== undefined && message.id !== id) return undefined;
        return webhookSubscription.load(message);
      });
    }) as never,
  })
  webhookSubscriptionUpdated(@Root() subscription: WebhookSubscription, @Arg('id', () => ID, { nullable: true, description: 'Only changes of this subscription; all of the tenant when left out.' }) _id?: string): WebhookSubscription {
    return subscription;
  }

  @Authorized(ApiKeyScope.READ)
  @Subscription(() => Event, {
    description: "Events published in the tenant, optionally only those whose type matches one of `eventTypes` (names or patterns such as `order.*`).",
    subscribe: (({ args, context }: Args<{ eventTypes?: string[] | null }>) => {
      const patterns = args.eventTypes ?? null;
      for (const [index, pattern] of (patterns ?? []).entries()) {
        const problem = patternProblem(pattern);
        if (problem) throw badUserInput(`eventTypes[${index}]`, problem);
      }
      const { event } = loaders(context);
      return liveStream(subscribe(context, 'event'), async (message) => {
        if (patterns && !anyPatternMatches(patterns, message.eventType)) return undefined;
        return event.load(message);
      });
    }) as never,
  })
  eventPublished(@Root() event: Event, @Arg('eventTypes', () => [String], { nullable: true, description: 'Event type names or patterns (`order.*`, `*`); all events when left out.' }) _eventTypes?: string[]): Event {
    return event;
  }
}

/** The filter as a test on messages; ids that cannot exist match nothing, as everywhere. */
function deliveryMatcher(filter: DeliveryFilter): (message: Message<'delivery'>) => boolean {
  const statuses = filter.statuses?.length ? new Set<string>(filter.statuses) : undefined;
  const createdFrom = filter.createdSince?.getTime();
  return (m) =>
    (filter.webhookSubscriptionId == null || m.webhookSubscriptionId === filter.webhookSubscriptionId) &&
    (filter.eventId == null || m.eventId === filter.eventId) &&
    (statuses === undefined || statuses.has(m.status)) &&
    (createdFrom === undefined || uuidv7Time(m.id) >= createdFrom);
}

/** Current state of the matching deliveries updated since `since`, oldest change first. */
async function replayDeliveries(context: Context, filter: DeliveryFilter, since: Date): Promise<Delivery[]> {
  const conditions = ['tenant_id = $1', 'updated_at >= $2'];
  const values: unknown[] = [tenantOf(context), since];
  const add = (sql: (n: number) => string, value: unknown) => {
    values.push(value);
    conditions.push(sql(values.length));
  };
  for (const [key, column] of [
    ['webhookSubscriptionId', 'webhook_subscription_id'],
    ['eventId', 'event_id'],
  ] as const) {
    const id = filter[key];
    if (id == null) continue;
    if (!isUuid(id)) return [];
    add((n) => `${column} = $${n}`, id);
  }
  if (filter.statuses?.length) add((n) => `status = any($${n}::text[])`, filter.statuses);
  if (filter.createdSince) add((n) => `created_at >= $${n}`, filter.createdSince);
  const { rows } = await context.services.pool.query<DeliveryRecord>(
    `select * from (select ${DELIVERY_COLUMNS} from delivery where ${conditions.join(' and ')} order by updated_at desc, id desc limit ${MAX_REPLAY}) recent
      order by updated_at, id`,
    values,
  );
  return rows.map(Delivery.fromRow);
}
