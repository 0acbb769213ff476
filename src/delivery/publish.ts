import type { Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config/config.js';
import { DeliveryStatus } from '../domain/entities/Delivery.js';
import { uuidv7 } from '../domain/ids.js';
import { validatePayload } from '../domain/json-schema.js';
import { isValidEventTypeName } from '../domain/patterns.js';
import { OverBudget, WorkMeter } from '../domain/work-meter.js';
import type { LiveMessage } from '../live/announce.js';
import { byQueue, inShard, shardPicker, type DeliveryJobTarget } from './jobs.js';
import type { Metrics } from './metrics.js';
import { sequentialUuidv7 } from './sequential-ids.js';
import { SubscriptionCache, type TenantEntry } from './subscription-cache.js';
import { asDate } from './dates.js';
import { announceAtCommit, bossDb, inTransaction } from './transaction.js';
import { activeTraceparent, inSpan } from '../telemetry/tracing.js';

export const MAX_BATCH = 500;
export const MAX_IDEMPOTENCY_KEY = 255;
/** A repeated idempotency key returns the original event for this long. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/**
 * Work units one publish call may spend validating payloads and matching
 * filters (a unit is about one cheap check of one payload value; see
 * WorkMeter). Ordinary calls use a few thousand; the limit keeps one call
 * under about a second of the event loop.
 */
export const PUBLISH_WORK_BUDGET = 8 * 1024 * 1024;
/** Event type of `webhookSubscriptionTest` deliveries; needs no EventType row. */
export const TEST_EVENT_TYPE = 'hookgraph.test';

export interface PublishInput {
  eventType: string;
  payload: unknown;
  idempotencyKey?: string | null;
  occurredAt?: Date | null;
}

/** An event row as publish returns it (the payload is read back from `body`). */
export interface PublishedEvent {
  id: string;
  tenantId: string;
  eventType: string;
  body: string;
  idempotencyKey: string | null;
  occurredAt: Date;
  createdAt: Date;
}

/** Why an event of the batch was refused; `path` is relative to that event's input. */
export interface PublishProblem {
  index: number;
  path: string[];
  code: 'REQUIRED' | 'INVALID' | 'TOO_LARGE' | 'NOT_FOUND' | 'ARCHIVED' | 'SCHEMA_MISMATCH' | 'INVALID_EVENT_TYPE_NAME';
  message: string;
}

export type PublishResult = { ok: true; events: PublishedEvent[]; deliveries: number } | { ok: false; problems: PublishProblem[] };

interface Prepared {
  input: PublishInput;
  id: string;
  payloadJson: string;
  /** The wire body, serialized once here and stored as is. */
  body: string;
  occurredAt: Date;
  key: string | null;
}

export interface PublisherOptions {
  config: Config;
  pool: Pool;
  boss: PgBoss;
  metrics?: Metrics;
}

/**
 * Publishing and fan-out. One transaction per call: the events (wire body
 * serialized once), one delivery per matching ENABLED subscription, their
 * pg-boss jobs (through the same client) and the live announcements — all
 * committed together or not at all.
 */
export class Publisher {
  readonly subscriptions = new SubscriptionCache();

  constructor(private readonly options: PublisherOptions) {}

  async publish(tenantId: string, inputs: readonly PublishInput[]): Promise<PublishResult> {
    const shapeProblems = inputs.flatMap((input, index) => this.checkShape(input, index));
    if (shapeProblems.length) return { ok: false, problems: shapeProblems };
    const prepared = inputs.map((input) => this.prepare(input));
    const sizeProblems = prepared.flatMap((p, index) =>
      Buffer.byteLength(p.payloadJson) > this.options.config.maxPayloadBytes
        ? [{ index, path: ['payload'], code: 'TOO_LARGE' as const, message: `The payload is larger than ${this.options.config.maxPayloadBytes} bytes when serialized.` }]
        : [],
    );
    if (sizeProblems.length) return { ok: false, problems: sizeProblems };
    const meter = new WorkMeter(PUBLISH_WORK_BUDGET);
    const { problems: typeProblems, version } = await this.checkEventTypes(tenantId, prepared, meter);
    if (typeProblems.length) return { ok: false, problems: typeProblems };
    try {
      return await inSpan('publish', { 'hookgraph.tenant_id': tenantId, 'hookgraph.event_count': prepared.length }, () =>
        inTransaction(this.options.pool, (client) => this.fanOut(client, tenantId, prepared, meter, version)),
      );
    } catch (error) {
      // Rolled back: nothing of the call is kept.
      if (error instanceof MatchingOverBudget) return { ok: false, problems: [overBudget(error.index)] };
      throw error;
    }
  }

  /** A `hookgraph.test` event delivered to one subscription only, whatever its patterns and filter. */
  async publishTest(tenantId: string, subscription: { id: string; ordered: boolean }): Promise<PublishedEvent> {
    const prepared = this.prepare({ eventType: TEST_EVENT_TYPE, payload: { message: 'This is a test event from hookgraph.', webhookSubscriptionId: subscription.id } });
    const result = await inSpan('publish', { 'hookgraph.tenant_id': tenantId, 'hookgraph.event_count': 1 }, () =>
      inTransaction(this.options.pool, (client) => this.fanOut(client, tenantId, [prepared], new WorkMeter(Infinity), undefined, [subscription])),
    );
    return (result as { events: PublishedEvent[] }).events[0];
  }

  private checkShape(input: PublishInput, index: number): PublishProblem[] {
    const problems: PublishProblem[] = [];
    if (!input.eventType) problems.push({ index, path: ['eventType'], code: 'REQUIRED', message: 'eventType is required.' });
    else if (!isValidEventTypeName(input.eventType)) problems.push({ index, path: ['eventType'], code: 'INVALID_EVENT_TYPE_NAME', message: `"${input.eventType.slice(0, 140)}" is not a valid event type name.` });
    if (input.payload === undefined || input.payload === null) problems.push({ index, path: ['payload'], code: 'REQUIRED', message: 'payload is required.' });
    const key = input.idempotencyKey;
    if (key !== undefined && key !== null && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
      problems.push({ index, path: ['idempotencyKey'], code: key.length ? 'TOO_LARGE' : 'INVALID', message: `idempotencyKey must be 1–${MAX_IDEMPOTENCY_KEY} characters.` });
    }
    if (input.occurredAt && Number.isNaN(input.occurredAt.getTime())) problems.push({ index, path: ['occurredAt'], code: 'INVALID', message: 'occurredAt is not a valid time.' });
    return problems;
  }

  private prepare(input: PublishInput): Prepared {
    const id = uuidv7();
    const payloadJson = JSON.stringify(input.payload);
    const occurredAt = input.occurredAt ?? new Date();
    const body = `{"id":${JSON.stringify(id)},"type":${JSON.stringify(input.eventType)},"timestamp":${JSON.stringify(occurredAt.toISOString())},"data":${payloadJson}}`;
    return { input, id, payloadJson, body, occurredAt, key: input.idempotencyKey ?? null };
  }

  /**
   * Checks event types and payload schemas, charging validation to `meter`
   * before running it; reads the subscription cache version in the same query.
   */
  private async checkEventTypes(tenantId: string, prepared: readonly Prepared[], meter: WorkMeter): Promise<{ problems: PublishProblem[]; version: string }> {
    const names = [...new Set(prepared.map((p) => p.input.eventType))];
    const { rows } = await this.options.pool.query<{ version: string; name: string | null; schema: unknown; archived_at: Date | null }>(
      `select v.version, t.name, t.schema, t.archived_at
         from (select ${SubscriptionCache.VERSION_SQL} as version) v
         left join event_type t on t.tenant_id = $1 and t.name = any($2::text[])`,
      [tenantId, names],
    );
    const types = new Map(rows.filter((r) => r.name !== null).map((r) => [r.name!, r]));
    const problems: PublishProblem[] = [];
    for (const [index, p] of prepared.entries()) {
      const type = types.get(p.input.eventType);
      if (!type) problems.push({ index, path: ['eventType'], code: 'NOT_FOUND', message: `No event type "${p.input.eventType}"; create it with eventTypeCreate first.` });
      else if (type.archived_at) problems.push({ index, path: ['eventType'], code: 'ARCHIVED', message: `The event type "${p.input.eventType}" is archived.` });
      else {
        let check;
        try {
          check = validatePayload(type.schema, p.input.payload, meter);
        } catch (error) {
          if (!(error instanceof OverBudget)) throw error;
          problems.push(overBudget(index));
          break;
        }
        if (!check.ok) problems.push({ index, path: ['payload', ...check.path], code: 'SCHEMA_MISMATCH', message: `The payload does not match the schema of "${p.input.eventType}": ${check.message}.` });
      }
    }
    return { problems, version: rows[0].version };
  }

  private async fanOut(client: PoolClient, tenantId: string, prepared: Prepared[], meter: WorkMeter, version?: string, only?: { id: string; ordered: boolean }[]): Promise<PublishResult> {
    const results = new Array<PublishedEvent | undefined>(prepared.length);
    const { fresh, repeats } = await this.resolveIdempotency(client, tenantId, prepared, results);

    const inserted = fresh.length
      ? await client.query<{ id: string; created_at: Date | string }>(
          `insert into event (id, tenant_id, event_type, body, idempotency_key, occurred_at, created_at, traceparent)
           select x.id, $1, x.event_type, x.body, x.idempotency_key, x.occurred_at, now(), $7::text
             from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) as x(id, event_type, body, idempotency_key, occurred_at)
           on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
           returning id, created_at`,
          [tenantId, fresh.map((f) => f.p.id), fresh.map((f) => f.p.input.eventType), fresh.map((f) => f.p.body), fresh.map((f) => f.p.key), fresh.map((f) => f.p.occurredAt), activeTraceparent()],
        )
      : { rows: [] };
    const createdAt = new Map(inserted.rows.map((r) => [r.id, asDate(r.created_at)]));
    const lost = fresh.filter((f) => !createdAt.has(f.p.id));
    // A concurrent publish with the same idempotency key committed first: return its event.
    if (lost.length) await this.resolveIdempotency(client, tenantId, lost.map((f) => f.p), results, lost.map((f) => f.index));

    const entry = only ? undefined : await this.subscriptions.forTenant(client, tenantId, version);
    const deliveries: { id: string; eventId: string; subscriptionId: string; ordered: boolean }[] = [];
    const messages: LiveMessage[] = [];
    const nextShard = shardPicker(this.options.config.workerBatchSize);
    for (const { p, index } of fresh) {
      const created = createdAt.get(p.id);
      if (!created) continue;
      results[index] = { id: p.id, tenantId, eventType: p.input.eventType, body: p.body, idempotencyKey: p.key, occurredAt: p.occurredAt, createdAt: created };
      messages.push({ kind: 'event', tenantId, id: p.id, eventType: p.input.eventType });
      const targets = only ?? matchWithin(entry!, p, index, meter);
      for (const sub of targets) deliveries.push({ id: sub.ordered ? sequentialUuidv7() : inShard(sequentialUuidv7(), nextShard()), eventId: p.id, subscriptionId: sub.id, ordered: sub.ordered });
    }
    if (deliveries.length) await this.insertDeliveries(client, tenantId, deliveries);
    if (deliveries.length) {
      const targets: DeliveryJobTarget[] = deliveries.map((d) => ({ deliveryId: d.id, attemptCount: 0, scheduleIndex: 0, webhookSubscriptionId: d.subscriptionId, ordered: d.ordered }));
      for (const [name, jobs] of byQueue(targets)) await this.options.boss.insert(name, jobs, { db: bossDb(client) });
      for (const d of deliveries) {
        messages.push({ kind: 'delivery', tenantId, id: d.id, eventId: d.eventId, webhookSubscriptionId: d.subscriptionId, status: DeliveryStatus.PENDING, attemptCount: 0 });
      }
    }
    for (const [index, first] of repeats) results[index] = results[first];
    await announceAtCommit(client, messages);
    this.options.metrics?.eventsPublished.inc(createdAt.size);
    this.options.metrics?.deliveriesCreated.inc(deliveries.length);
    return { ok: true, events: results as PublishedEvent[], deliveries: deliveries.length };
  }

  /**
   * Inserts the delivery rows, dropping (from `deliveries`, in place) those
   * whose subscription was deleted since the cache was read: the subscription
   * rows are key-share locked first, so a delete that committed meanwhile is
   * simply not seen and one still running waits for this transaction, instead
   * of the foreign key failing the publish.
   */
  private async insertDeliveries(client: PoolClient, tenantId: string, deliveries: { id: string; eventId: string; subscriptionId: string }[]): Promise<void> {
    const subscriptionIds = [...new Set(deliveries.map((d) => d.subscriptionId))];
    const { rows } = await client.query<{ id: string }>(
      `with live as (select id from webhook_subscription where id = any($5::uuid[]) order by id for key share)
       insert into delivery (id, tenant_id, event_id, webhook_subscription_id, status, attempt_count, created_at, updated_at)
       select x.id, $1, x.event_id, x.subscription_id, 'PENDING', 0, now(), now()
         from unnest($2::uuid[], $3::uuid[], $4::uuid[]) as x(id, event_id, subscription_id)
        where x.subscription_id in (select id from live)
       returning id`,
      [tenantId, deliveries.map((d) => d.id), deliveries.map((d) => d.eventId), deliveries.map((d) => d.subscriptionId), subscriptionIds],
    );
    if (rows.length === deliveries.length) return;
    const inserted = new Set(rows.map((r) => r.id));
    const kept = deliveries.filter((d) => inserted.has(d.id));
    deliveries.splice(0, deliveries.length, ...kept);
  }

  /**
   * Fills `results` for inputs whose idempotency key was used in the last 24 h
   * and returns the rest, plus repeats of a key earlier in this batch
   * (index, index of the first use). A key older than the
   * window is released from its old event so it can be used again.
   */
  private async resolveIdempotency(
    client: PoolClient,
    tenantId: string,
    prepared: readonly Prepared[],
    results: (PublishedEvent | undefined)[],
    indexes: readonly number[] = prepared.map((_, i) => i),
  ): Promise<{ fresh: { p: Prepared; index: number }[]; repeats: [number, number][] }> {
    const keys = [...new Set(prepared.map((p) => p.key).filter((k): k is string => k !== null))];
    const existing = new Map<string, PublishedEvent>();
    if (keys.length) {
      const { rows } = await client.query<{ id: string; event_type: string; body: string; idempotency_key: string; occurred_at: Date | string; created_at: Date | string }>(
        'select id, event_type, body, idempotency_key, occurred_at, created_at from event where tenant_id = $1 and idempotency_key = any($2::text[])',
        [tenantId, keys],
      );
      const expired: string[] = [];
      for (const row of rows) {
        if (Date.now() - asDate(row.created_at).getTime() > IDEMPOTENCY_WINDOW_MS) expired.push(row.id);
        else existing.set(row.idempotency_key, { id: row.id, tenantId, eventType: row.event_type, body: row.body, idempotencyKey: row.idempotency_key, occurredAt: asDate(row.occurred_at), createdAt: asDate(row.created_at) });
      }
      if (expired.length) await client.query('update event set idempotency_key = null where id = any($1::uuid[])', [expired]);
    }
    const fresh: { p: Prepared; index: number }[] = [];
    const repeats: [number, number][] = [];
    const firstInBatch = new Map<string, number>();
    prepared.forEach((p, i) => {
      const index = indexes[i];
      const original = p.key === null ? undefined : existing.get(p.key);
      if (original) results[index] = original;
      else if (p.key !== null && firstInBatch.has(p.key)) repeats.push([index, firstInBatch.get(p.key)!]);
      else {
        if (p.key !== null) firstInBatch.set(p.key, index);
        fresh.push({ p, index });
      }
    });
    return { fresh, repeats };
  }
}

/** Raised inside the publish transaction (rolling it back) when matching runs out of budget. */
class MatchingOverBudget extends Error {
  constructor(readonly index: number) {
    super(`matching event ${index} ran over the publish work budget`);
  }
}

function matchWithin(entry: TenantEntry, p: Prepared, index: number, meter: WorkMeter) {
  try {
    return SubscriptionCache.match(entry, p.input.eventType, envelope(p), meter);
  } catch (error) {
    if (error instanceof OverBudget) throw new MatchingOverBudget(index);
    throw error;
  }
}

function overBudget(index: number): PublishProblem {
  return {
    index,
    path: [],
    code: 'TOO_LARGE',
    message: `Validating and matching the events of this call up to this one is more work than one call may do (${PUBLISH_WORK_BUDGET} units); publish fewer or smaller events per call.`,
  };
}

/**
 * What payload filters look at: the delivered body as an object, so a filter
 * can test `data.amount` as well as `type`, `id` and `timestamp`.
 */
function envelope(p: Prepared): { id: string; type: string; timestamp: string; data: unknown } {
  return { id: p.id, type: p.input.eventType, timestamp: p.occurredAt.toISOString(), data: p.input.payload };
}
