import { LRUCache } from 'lru-cache';
import { buildEventSchema, type EventSchema } from '../domain/event-schema.js';
import { SYSTEM_EVENT_TYPES } from '../domain/operational-events.js';
import type { Db, Sql } from '../store/db.js';
import * as eventTypes from '../store/event-types.js';

/**
 * Tenants whose event schema this process keeps built: a schema is a few
 * hundred KB for a tenant with many large event types, and rebuilding one
 * costs a read of its event types and a few ms.
 */
const EVENT_SCHEMA_TENANTS = 1_000;

/**
 * Each tenant's event schema, built once per change of its event types: every
 * use checks the event types' version (one index scan), so a change made
 * through any process is seen by the next use in every process.
 */
export class EventSchemas {
  private readonly cache = new LRUCache<string, { version: string; eventSchema: EventSchema }>({ max: EVENT_SCHEMA_TENANTS });

  constructor(private readonly db: Db) {}

  /**
   * The tenant's event schema, read through `sql`: inside a transaction pass
   * it, so the reads run on its connection rather than waiting for a second
   * one from the pool while holding the first.
   */
  async forTenant(tenantId: string, sql: Sql = this.db): Promise<EventSchema> {
    const version = await eventTypes.schemaVersion(sql, tenantId);
    const cached = this.cache.get(tenantId);
    if (cached?.version === version) return cached.eventSchema;
    // hookgraph's own event types are part of every tenant's schema, so payload queries can shape them too.
    const eventSchema = buildEventSchema([...(await eventTypes.forEventSchema(sql, tenantId)), ...SYSTEM_EVENT_TYPES]);
    this.cache.set(tenantId, { version, eventSchema });
    return eventSchema;
  }
}
