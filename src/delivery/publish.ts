import type { PgBoss } from 'pg-boss';
import type { Config } from '../config/config.js';
import { uuidv7 } from '../domain/ids.js';
import { validatePayload } from '../domain/json-schema.js';
import { isValidEventTypeName } from '../domain/patterns.js';
import { isSystemEventTypeName, type OperationalEvent } from '../domain/operational-events.js';
import { OverBudget, WorkMeter } from '../domain/work-meter.js';
import { orderingKeyHash, valueAt } from '../domain/ordering-key.js';
import { ShapedTooLarge, shapePayload, type PayloadPlan, type PlannedField } from '../domain/payload-query.js';
import type { Db, Tx } from '../store/db.js';
import * as deliveries from '../store/deliveries.js';
import * as events from '../store/events.js';
import * as eventTypes from '../store/event-types.js';
import { enqueueNew, inShard, shardPicker } from './jobs.js';
import type { Metrics } from './metrics.js';
import { sequentialUuidv7 } from './sequential-ids.js';
import { SubscriptionCache, type TenantEntry } from './subscription-cache.js';
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

/** An event as publish returns it (the payload is read back from `body`). */
export type PublishedEvent = events.StoredEvent;

/** Why an event of the batch was refused; `path` is relative to that event's input. */
export interface PublishProblem {
  index: number;
  path: string[];
  code: 'REQUIRED' | 'INVALID' | 'TOO_LARGE' | 'NOT_FOUND' | 'ARCHIVED' | 'SCHEMA_MISMATCH' | 'INVALID_EVENT_TYPE_NAME' | 'RESERVED_NAME';
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
  db: Db;
  boss: PgBoss;
  metrics: Metrics;
}

/**
 * Publishing and fan-out. One transaction per call: the events (wire body
 * serialized once), one delivery per matching ENABLED subscription, their
 * pg-boss jobs (in the same transaction) and the live announcements — all
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
        this.options.db.transaction((tx) => this.fanOut(tx, tenantId, prepared, meter, version)),
      );
    } catch (error) {
      // Rolled back: nothing of the call is kept.
      if (error instanceof MatchingOverBudget) return { ok: false, problems: [overBudget(error.index)] };
      if (error instanceof ShapedTooLargeAt) {
        const message = `The payload query of webhook subscription ${error.subscriptionId} makes this event's data larger than ${error.limitBytes} bytes (HOOKGRAPH_MAX_PAYLOAD_BYTES), more than a delivery may carry; change the query or the payload.`;
        return { ok: false, problems: [{ index: error.index, path: ['payload'], code: 'TOO_LARGE', message }] };
      }
      throw error;
    }
  }

  /** A `hookgraph.test` event delivered to one subscription only, whatever its patterns and filter. */
  async publishTest(tenantId: string, subscription: Orderable): Promise<PublishedEvent> {
    // A test event is delivered whole: no payload query selects `hookgraph.test`.
    const prepared = this.prepare({ eventType: TEST_EVENT_TYPE, payload: { message: 'This is a test event from hookgraph.', webhookSubscriptionId: subscription.id } });
    const result = await inSpan('publish', { 'hookgraph.tenant_id': tenantId, 'hookgraph.event_count': 1 }, () =>
      this.options.db.transaction((tx) => this.fanOut(tx, tenantId, [prepared], new WorkMeter(Infinity), undefined, [subscription])),
    );
    return (result as { events: PublishedEvent[] }).events[0];
  }

  private checkShape(input: PublishInput, index: number): PublishProblem[] {
    const problems: PublishProblem[] = [];
    if (!input.eventType) problems.push({ index, path: ['eventType'], code: 'REQUIRED', message: 'eventType is required.' });
    else if (!isValidEventTypeName(input.eventType)) problems.push({ index, path: ['eventType'], code: 'INVALID_EVENT_TYPE_NAME', message: `"${input.eventType.slice(0, 140)}" is not a valid event type name.` });
    else if (isSystemEventTypeName(input.eventType)) {
      problems.push({ index, path: ['eventType'], code: 'RESERVED_NAME', message: `"${input.eventType}" is one of hookgraph's own event types: only hookgraph publishes them.` });
    }
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
    const body = wireBody(id, input.eventType, occurredAt, payloadJson);
    return { input, id, payloadJson, body, occurredAt, key: input.idempotencyKey ?? null };
  }

  /**
   * Checks event types and payload schemas, charging validation to `meter`
   * before running it; reads the subscription cache version in the same query.
   */
  private async checkEventTypes(tenantId: string, prepared: readonly Prepared[], meter: WorkMeter): Promise<{ problems: PublishProblem[]; version: string }> {
    const names = [...new Set(prepared.map((p) => p.input.eventType))];
    const { types, subscriptionsVersion } = await eventTypes.forPublish(this.options.db, tenantId, names);
    const problems: PublishProblem[] = [];
    for (const [index, p] of prepared.entries()) {
      const type = types.get(p.input.eventType);
      if (!type) problems.push({ index, path: ['eventType'], code: 'NOT_FOUND', message: `No event type "${p.input.eventType}"; create it with eventTypeCreate first.` });
      else if (type.archivedAt) problems.push({ index, path: ['eventType'], code: 'ARCHIVED', message: `The event type "${p.input.eventType}" is archived.` });
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
    return { problems, version: subscriptionsVersion };
  }

  private async fanOut(tx: Tx, tenantId: string, prepared: Prepared[], meter: WorkMeter, version?: string, only?: Orderable[]): Promise<PublishResult> {
    const results = new Array<PublishedEvent | undefined>(prepared.length);
    const { fresh, repeats } = await this.resolveIdempotency(tx, tenantId, prepared, results);

    const createdAt = await events.insertMany(
      tx,
      tenantId,
      fresh.map(({ p }) => ({ id: p.id, eventType: p.input.eventType, body: p.body, idempotencyKey: p.key, occurredAt: p.occurredAt })),
      activeTraceparent() ?? null,
    );
    const lost = fresh.filter((f) => !createdAt.has(f.p.id));
    // A concurrent publish with the same idempotency key committed first: return its event.
    if (lost.length) await this.resolveIdempotency(tx, tenantId, lost.map((f) => f.p), results, lost.map((f) => f.index));

    const entry = only ? undefined : await this.subscriptions.forTenant(tx, tenantId, version);
    const created = fresh.filter(({ p, index }) => {
      const at = createdAt.get(p.id);
      if (at) results[index] = { id: p.id, tenantId, eventType: p.input.eventType, body: p.body, idempotencyKey: p.key, occurredAt: p.occurredAt, createdAt: at };
      return at !== undefined;
    });
    const planned = this.plan(created.map(({ p, index }) => ({ p, index, targets: only ?? matchWithin(entry!, p, index, meter) })), meter);
    const count = await this.insertDeliveries(tx, tenantId, planned);
    for (const [index, first] of repeats) results[index] = results[first];
    this.options.metrics.eventsPublished.inc(createdAt.size);
    return { ok: true, events: results as PublishedEvent[], deliveries: count };
  }

  /**
   * Operational events (see domain/operational-events.ts), published inside
   * `tx`, the transaction that makes the change they report (the worker's
   * group commit): fanned out like any event to the tenant's ENABLED
   * subscriptions whose patterns match, with their deliveries and jobs in the
   * same transaction. An event no subscription takes is not stored at all, so
   * a tenant without such subscriptions pays one version read (the cache is
   * in memory); nothing at all is read when there are no events.
   */
  async publishOperational(tx: Tx, operational: readonly OperationalEvent[]): Promise<{ events: number; deliveries: number }> {
    const published = { events: 0, deliveries: 0 };
    if (operational.length === 0) return published;
    const byTenant = new Map<string, OperationalEvent[]>();
    for (const event of operational) {
      let list = byTenant.get(event.tenantId);
      if (!list) byTenant.set(event.tenantId, (list = []));
      list.push(event);
    }
    // Stored filters and payload queries were bounded when saved; this must not fail the commit it rides on.
    const meter = new WorkMeter(Infinity);
    for (const [tenantId, list] of byTenant) {
      const entry = await this.subscriptions.forTenant(tx, tenantId);
      const matched = list
        .map((event, index) => {
          const p = this.prepare({ eventType: event.eventType, payload: event.payload });
          return { p, index, targets: matchWithin(entry, p, index, meter) };
        })
        .filter((m) => m.targets.length > 0);
      if (matched.length === 0) continue;
      await events.insertMany(
        tx,
        tenantId,
        matched.map(({ p }) => ({ id: p.id, eventType: p.input.eventType, body: p.body, idempotencyKey: null, occurredAt: p.occurredAt })),
        null,
      );
      published.events += matched.length;
      published.deliveries += await this.insertDeliveries(tx, tenantId, this.plan(matched, meter, Number.POSITIVE_INFINITY));
    }
    this.options.metrics.eventsPublished.inc(published.events);
    return published;
  }

  /** One PENDING delivery per event and target, its body shaped where the target's payload query names the type. */
  private plan(
    matched: readonly { p: Prepared; index: number; targets: readonly (Orderable & { plan?: PayloadPlan | null })[] }[],
    meter: WorkMeter,
    /** Largest shaped data; operational events (small, built by hookgraph) pass no limit, so their commit cannot fail on it. */
    limitBytes = this.options.config.maxPayloadBytes,
  ): deliveries.NewDelivery[] {
    const planned: deliveries.NewDelivery[] = [];
    const nextShard = shardPicker(this.options.config.workerBatchSize);
    for (const { p, index, targets } of matched) {
      for (const sub of targets) {
        const fields = sub.plan?.[p.input.eventType];
        const shaped = fields ? shapedWithin(p, fields, index, meter, limitBytes, sub.id) : undefined;
        const orderingKey = keyOf(sub, shaped?.envelope ?? envelope(p));
        const ordered = sub.ordered || orderingKey !== null;
        const id = ordered ? sequentialUuidv7() : inShard(sequentialUuidv7(), nextShard());
        planned.push({ id, eventId: p.id, webhookSubscriptionId: sub.id, ordered, orderingKey, body: shaped?.body ?? null });
      }
    }
    return planned;
  }

  /** Inserts the deliveries and their first jobs in `tx`; returns how many were inserted. */
  private async insertDeliveries(tx: Tx, tenantId: string, planned: readonly deliveries.NewDelivery[]): Promise<number> {
    const inserted = await deliveries.insertPending(tx, tenantId, planned);
    await enqueueNew(
      this.options.boss,
      tx,
      inserted.map((d) => ({ deliveryId: d.id, attemptCount: 0, scheduleIndex: 0, webhookSubscriptionId: d.webhookSubscriptionId, ordered: d.ordered, orderingKey: d.orderingKey })),
    );
    this.options.metrics.deliveriesCreated.inc(inserted.length);
    return inserted.length;
  }

  /**
   * Fills `results` for inputs whose idempotency key was used in the last 24 h
   * and returns the rest, plus repeats of a key earlier in this batch
   * (index, index of the first use). A key older than the
   * window is released from its old event so it can be used again.
   */
  private async resolveIdempotency(
    tx: Tx,
    tenantId: string,
    prepared: readonly Prepared[],
    results: (PublishedEvent | undefined)[],
    indexes: readonly number[] = prepared.map((_, i) => i),
  ): Promise<{ fresh: { p: Prepared; index: number }[]; repeats: [number, number][] }> {
    const keys = [...new Set(prepared.map((p) => p.key).filter((k): k is string => k !== null))];
    const existing = new Map<string, PublishedEvent>();
    const expired: string[] = [];
    for (const event of await events.byIdempotencyKeys(tx, tenantId, keys)) {
      if (Date.now() - event.createdAt.getTime() > IDEMPOTENCY_WINDOW_MS) expired.push(event.id);
      else existing.set(event.idempotencyKey!, event);
    }
    await events.releaseIdempotencyKeys(tx, expired);
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

/** The subscription fields that decide how its deliveries are ordered. */
type Orderable = { id: string; ordered: boolean; orderingKey: string | null };

/** The hash a keyed subscription's delivery is ordered under; null: by the subscription alone (`ordered`) or not at all. */
function keyOf(sub: Orderable, delivered: ReturnType<typeof envelope>): string | null {
  if (sub.ordered || !sub.orderingKey) return null;
  const value = valueAt(delivered, sub.orderingKey);
  return value === undefined ? null : orderingKeyHash(sub.id, value);
}

/**
 * The wire body with `data` shaped by a payload query (and that body as an
 * object); its work counts against the call's budget like matching, and the
 * shaped data may be no larger than a payload may be.
 */
function shapedWithin(p: Prepared, fields: readonly PlannedField[], index: number, meter: WorkMeter, limitBytes: number, subscriptionId: string): { body: string; envelope: ReturnType<typeof envelope> } {
  try {
    const data = shapePayload(fields, p.input.payload, meter, limitBytes);
    return { body: wireBody(p.id, p.input.eventType, p.occurredAt, JSON.stringify(data)), envelope: { ...envelope(p), data } };
  } catch (error) {
    if (error instanceof OverBudget) throw new MatchingOverBudget(index);
    if (error instanceof ShapedTooLarge) throw new ShapedTooLargeAt(index, error.limitBytes, subscriptionId);
    throw error;
  }
}

/** Raised inside the publish transaction (rolling it back) when a payload query would make a delivery's data too large. */
class ShapedTooLargeAt extends Error {
  constructor(
    readonly index: number,
    readonly limitBytes: number,
    readonly subscriptionId: string,
  ) {
    super(`shaping event ${index} made its data larger than ${limitBytes} bytes`);
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

/** The delivered body, `{id, type, timestamp, data}`, serialized once with `data` as given. */
export function wireBody(id: string, eventType: string, occurredAt: Date, dataJson: string): string {
  return `{"id":${JSON.stringify(id)},"type":${JSON.stringify(eventType)},"timestamp":${JSON.stringify(occurredAt.toISOString())},"data":${dataJson}}`;
}

/**
 * What payload filters look at: the delivered body as an object, so a filter
 * can test `data.amount` as well as `type`, `id` and `timestamp`.
 */
function envelope(p: Prepared): { id: string; type: string; timestamp: string; data: unknown } {
  return { id: p.id, type: p.input.eventType, timestamp: p.occurredAt.toISOString(), data: p.input.payload };
}
