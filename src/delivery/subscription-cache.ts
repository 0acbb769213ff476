import { LRUCache } from 'lru-cache';
import type { Sql } from '../store/db.js';
import * as webhookSubscriptions from '../store/webhook-subscriptions.js';
import { compileFilter, type CompiledFilter } from '../domain/filter.js';
import { anyPatternMatches } from '../domain/patterns.js';
import type { WorkMeter } from '../domain/work-meter.js';
import type { PayloadPlan } from '../domain/payload-query.js';

/** An ENABLED subscription as fan-out needs it: patterns and a compiled filter, no secrets. */
export interface MatchableSubscription {
  id: string;
  eventTypes: string[];
  filter: CompiledFilter;
  ordered: boolean;
  /** Dotted path of the per-key ordering (see domain/ordering-key.ts); null: none. */
  orderingKey: string | null;
  /** The compiled payload query, by event type; null: deliveries carry the event's body. */
  plan: PayloadPlan | null;
}

export interface TenantEntry {
  version: string;
  subscriptions: MatchableSubscription[];
  /** Pattern matches per event type, filled lazily. */
  byType: Map<string, MatchableSubscription[]>;
}

/**
 * Tenants whose compiled subscriptions a publishing process keeps. An entry
 * holds a tenant's enabled subscriptions (ids, patterns, compiled filters:
 * a few KB for a typical tenant); 10,000 covers every tenant publishing in
 * a while, and a tenant that falls out costs one query on its next publish.
 */
export const SUBSCRIPTION_CACHE_TENANTS = 10_000;

/**
 * Per-tenant cache of compiled ENABLED subscriptions for fan-out. Each publish
 * checks a cheap version of the tenant's subscriptions (see
 * `webhookSubscriptions.VERSION_SQL`, read together with the event types); any
 * create, update, delete or status change changes it and reloads the tenant. Matching is then in memory: patterns once
 * per event type, the payload filter per event (against the delivered body `{id, type, timestamp, data}`).
 */
export class SubscriptionCache {
  private readonly tenants = new LRUCache<string, TenantEntry>({ max: SUBSCRIPTION_CACHE_TENANTS });

  /** The tenant's enabled subscriptions, current as of `db`'s snapshot (or of `version`, read just before). */
  async forTenant(db: Sql, tenantId: string, knownVersion?: string): Promise<TenantEntry> {
    const version = knownVersion ?? (await webhookSubscriptions.version(db, tenantId));
    const cached = this.tenants.get(tenantId);
    if (cached && cached.version === version) return cached;
    const subs = await webhookSubscriptions.enabledForFanOut(db, tenantId);
    const entry: TenantEntry = {
      version,
      subscriptions: subs.map((s) => ({ id: s.id, eventTypes: s.eventTypes, filter: safeFilter(s.filter), ordered: s.ordered, orderingKey: s.orderingKey, plan: s.payloadPlan })),
      byType: new Map(),
    };
    this.tenants.set(tenantId, entry);
    return entry;
  }

  /** Subscriptions of the entry that take an event of `type`; filters see `body`, the delivered body as an object, and charge `meter`. */
  static match(entry: TenantEntry, type: string, body: unknown, meter?: WorkMeter): MatchableSubscription[] {
    let candidates = entry.byType.get(type);
    if (!candidates) {
      candidates = entry.subscriptions.filter((s) => anyPatternMatches(s.eventTypes, type));
      entry.byType.set(type, candidates);
    }
    return candidates.filter((s) => s.filter(body, meter));
  }
}

/** A stored filter that no longer compiles matches nothing rather than everything. */
function safeFilter(filter: unknown): CompiledFilter {
  try {
    return compileFilter(filter);
  } catch {
    return () => false;
  }
}
