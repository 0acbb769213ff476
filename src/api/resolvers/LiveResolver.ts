import { Arg, Authorized, ID, Resolver, Root, Subscription, type ResolverData, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import { anyPatternMatches, patternProblem } from '../../domain/patterns.js';
import type { LiveMessage } from '../../live/messages.js';
import type { Live } from '../../live/live.js';
import type { LiveTopic } from '../../live/pubsub.js';
import { liveStream, SharedLoader, uuidv7Time } from '../../live/stream.js';
import * as deliveries from '../../store/deliveries.js';
import * as events from '../../store/events.js';
import * as webhookSubscriptions from '../../store/webhook-subscriptions.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { badUserInput } from '../errors.js';
import { byId } from '../loaders.js';
import { Delivery, DeliveryFilter } from '../types/delivery.js';
import { Event } from '../types/event.js';
import { WebhookSubscription } from '../types/webhook-subscription.js';

type Message<K extends LiveMessage['kind']> = Extract<LiveMessage, { kind: K }>;

/** Most deliveries replayed by `deliveryUpdated(since:)`; older changes are for the `deliveries` query. */
export const MAX_REPLAY = 1000;

/** One set of shared loaders per process (per Live), reused by every subscriber. */
const loadersOf = new WeakMap<Live, ReturnType<typeof createLoaders>>();

function createLoaders(context: Context) {
  const { db } = context.services;
  return {
    // status and attemptCount are those of the announced change: every transition reaches the client, in order.
    delivery: new SharedLoader<Message<'delivery'>, Delivery>(
      async (tenantId, ids) => byId((await deliveries.byIds(db, tenantId, ids)).map(Delivery.from)),
      (message, row) => Object.assign(new Delivery(), row, { status: message.status, attemptCount: message.attemptCount }),
    ),
    event: new SharedLoader<Message<'event'>, Event>(async (tenantId, ids) => byId((await events.byIds(db, tenantId, ids)).map(Event.from))),
    webhookSubscription: new SharedLoader<Message<'webhookSubscription'>, WebhookSubscription>(async (tenantId, ids) =>
      byId((await webhookSubscriptions.byIds(db, tenantId, ids)).map((row) => WebhookSubscription.from(row))),
    ),
  };
}

function loaders(context: Context) {
  const { live } = context.services;
  let found = loadersOf.get(live);
  if (!found) loadersOf.set(live, (found = createLoaders(context)));
  return found;
}

/** A subscription to `topic` for the caller's tenant; a client that cannot keep up is disconnected. */
function subscribe<T extends LiveTopic>(context: Context, topic: T) {
  const { live } = context.services;
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
      'off after failing too long) and every change of their `circuit` state; only the one with `id`, when given.',
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
  eventPublished(@Root() event: Event, @Arg('eventTypes', () => [String], { nullable: true, description: 'Event type names or patterns (`order.*`, `*`), matched as subscription patterns are: `*` selects the tenant\'s own types, `hookgraph.*` hookgraph\'s (`hookgraph.test`, operational events); all events when left out.' }) _eventTypes?: string[]): Event {
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
  const rows = await deliveries.updatedSince(context.services.db, tenantOf(context), filter, since, MAX_REPLAY);
  return rows.map(Delivery.from);
}
