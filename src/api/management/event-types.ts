import type { EventType as EventTypeEntity } from '../../domain/entities/EventType.js';
import { jsonSchemaProblem } from '../../domain/json-schema.js';
import { isValidEventTypeName, MAX_EVENT_TYPE_NAME_LENGTH } from '../../domain/patterns.js';
import type { Db, Sql } from '../../store/db.js';
import * as eventTypes from '../../store/event-types.js';
import * as webhookSubscriptions from '../../store/webhook-subscriptions.js';
import { checkPayloadQuery } from '../../domain/payload-query.js';
import { isSystemEventTypeName, SYSTEM_EVENT_TYPES, systemEventType, type SystemEventType } from '../../domain/operational-events.js';
import type { PageQuery } from '../../store/pages.js';
import { buildEventSchema, type EventTypeSource } from '../../domain/event-schema.js';
import type { Warning } from './webhook-subscriptions.js';
import { userError, UserErrorCode, UserInputFailure, type UserError } from '../errors.js';

/** Event type use cases: create, update, archive. Each throws UserInputFailure on bad input and changes nothing then. */
const MAX_DESCRIPTION = 1000;

function nameErrors(name: string): UserError[] {
  if (!name) return [userError(['input', 'name'], UserErrorCode.REQUIRED, 'A name is required.')];
  if (!isValidEventTypeName(name)) {
    return [
      userError(
        ['input', 'name'],
        UserErrorCode.INVALID_EVENT_TYPE_NAME,
        `Event type names are lowercase dot-separated segments of letters, digits, _ or - starting with a letter (e.g. "order.created"), at most ${MAX_EVENT_TYPE_NAME_LENGTH} characters.`,
      ),
    ];
  }
  if (isSystemEventTypeName(name)) return [reserved(name, 'created')];
  return [];
}

/** hookgraph's own event types exist in every tenant already and stay as they are. */
const reserved = (name: string, verb: string) =>
  userError(
    ['input', 'name'],
    UserErrorCode.RESERVED_NAME,
    `"${name.slice(0, MAX_EVENT_TYPE_NAME_LENGTH)}" is in the hookgraph namespace, reserved for hookgraph's own event types: they cannot be ${verb}; subscribe to them with a pattern such as "hookgraph.*".`,
  );

function detailErrors(input: { description?: string | null; schema?: unknown }): UserError[] {
  const errors: UserError[] = [];
  if (input.description && input.description.trim().length > MAX_DESCRIPTION) {
    errors.push(userError(['input', 'description'], UserErrorCode.TOO_LARGE, `The description is longer than ${MAX_DESCRIPTION} characters.`));
  }
  if (input.schema !== undefined && input.schema !== null) {
    const problem = jsonSchemaProblem(input.schema);
    if (problem) errors.push(userError(['input', 'schema', ...problem.path], UserErrorCode.INVALID_SCHEMA, problem.message));
  }
  return errors;
}

const notFound = (name: string) =>
  new UserInputFailure([userError(['input', 'name'], UserErrorCode.NOT_FOUND, `No event type named "${name.slice(0, MAX_EVENT_TYPE_NAME_LENGTH)}".`)]);

export async function createEventType(db: Db, tenantId: string, input: { name: string; description?: string | null; schema?: unknown }): Promise<EventTypeEntity> {
  const name = input.name.trim();
  const errors = [...nameErrors(name), ...detailErrors(input)];
  if (errors.length) throw new UserInputFailure(errors);
  try {
    return await db.transaction((tx) => eventTypes.create(tx, tenantId, { name, description: input.description?.trim() || null, schema: input.schema ?? null }));
  } catch (error) {
    if (error instanceof eventTypes.NameTaken) {
      throw new UserInputFailure([userError(['input', 'name'], UserErrorCode.TAKEN, `An event type named "${name}" already exists (archived ones too: restore it with eventTypeUpdate).`)]);
    }
    throw error;
  }
}

/**
 * One page of the tenant's event types, newest first, hookgraph's own types
 * (ids below every stored one) after the stored ones.
 */
export async function listEventTypes(db: Db, tenantId: string, filter: { includeArchived?: boolean | null }, page: PageQuery): Promise<(EventTypeEntity | SystemEventType)[]> {
  const stored = await eventTypes.page(db, tenantId, filter, page);
  if (stored.length >= page.limit) return stored;
  const system = SYSTEM_EVENT_TYPES.filter((t) => !page.beforeId || t.id < page.beforeId).sort((a, b) => (a.id < b.id ? 1 : -1));
  return [...stored, ...system].slice(0, page.limit);
}

/** The tenant's event type of this name (archived ones too), or hookgraph's own of that name. */
export async function findEventType(db: Db, tenantId: string, name: string): Promise<EventTypeEntity | SystemEventType | null> {
  return systemEventType(name) ?? (await eventTypes.byName(db, tenantId, name));
}

/** An event type change and the payload queries it affects. */
export interface EventTypeChange {
  eventType: EventTypeEntity;
  warnings: Warning[];
}

/**
 * Changes `name`'s event type as `changes` say, or throws NOT_FOUND. The
 * affected payload queries are found in the same transaction, before it
 * commits: a committed change always answers with its warnings, and a
 * failure finding them leaves nothing changed.
 */
async function change(db: Db, tenantId: string, name: string, changes: eventTypes.EventTypeChanges, warningField: string[]): Promise<EventTypeChange> {
  if (isSystemEventTypeName(name)) throw new UserInputFailure([reserved(name, 'changed or archived')]);
  const found = isValidEventTypeName(name)
    ? await db.transaction(async (tx) => {
        // Locked first: a concurrent change of this type commits before `before` is read, not after.
        if (!(await eventTypes.lockByName(tx, tenantId, name))) return undefined;
        // Read as the event schema is built (archived types too, which keep their names), so both schemas name
        // types as every process will.
        const before = await eventTypes.forEventSchema(tx, tenantId);
        const eventType = await eventTypes.update(tx, tenantId, name, changes);
        if (!eventType) return undefined;
        const changed: EventTypeSource = { name: eventType.name, description: eventType.description, schema: eventType.schema, createdAt: eventType.createdAt, archived: eventType.archivedAt != null };
        const after = before.map((t) => (t.name === name ? changed : t));
        return { eventType, warnings: await payloadQueryWarnings(tx, tenantId, name, before, after, warningField) };
      })
    : undefined;
  if (!found) throw notFound(name);
  return found;
}

export async function updateEventType(
  db: Db,
  tenantId: string,
  input: { name: string; description?: string | null; schema?: unknown; archived?: boolean | null },
): Promise<EventTypeChange> {
  const errors = detailErrors(input);
  if (errors.length) throw new UserInputFailure(errors);
  const field = input.schema !== undefined ? 'schema' : input.archived !== undefined && input.archived !== null ? 'archived' : 'name';
  return change(
    db,
    tenantId,
    input.name.trim(),
    {
      description: input.description === undefined ? undefined : input.description?.trim() || null,
      schema: input.schema === undefined ? undefined : (input.schema ?? null),
      archived: input.archived,
    },
    ['input', field],
  );
}

/** Archives a type: new events of it are refused, history stays. Archiving twice keeps the first time. */
export async function archiveEventType(db: Db, tenantId: string, name: string): Promise<EventTypeChange> {
  return change(db, tenantId, name.trim(), { archived: true }, ['input', 'name']);
}

/** Most payload queries checked for one change (each costs a parse and two validations, inside the change's transaction). */
const MAX_CHECKED_QUERIES = 200;

/**
 * The subscriptions whose saved payload query this change breaks: valid
 * against the event schema before, not after (a selected field removed or
 * renamed, the event type archived). Only queries selecting the changed type,
 * or a type whose root field or type names the change moved (names that
 * camel-case alike take turns at the plain name; a nested type the changed
 * type now has can take a later type's name), can be affected, so only those
 * are checked.
 * Their queries keep working on what remains; what is gone comes out null.
 */
async function payloadQueryWarnings(
  tx: Sql,
  tenantId: string,
  changed: string,
  before: readonly EventTypeSource[],
  after: readonly EventTypeSource[],
  field: string[],
): Promise<Warning[]> {
  // Building the two schemas is the cost; a tenant without payload queries skips it.
  if (!(await webhookSubscriptions.anyWithPayloadQuery(tx, tenantId))) return [];
  const schemaBefore = buildEventSchema([...before, ...SYSTEM_EVENT_TYPES]);
  const schemaAfter = buildEventSchema([...after, ...SYSTEM_EVENT_TYPES]);
  const renamed = [...schemaBefore.fieldOf].filter(([eventType, rootField]) => schemaAfter.fieldOf.get(eventType) !== rootField).map(([eventType]) => eventType);
  const retyped = [...schemaBefore.typeNamesOf].filter(([eventType, names]) => !sameNames(names, schemaAfter.typeNamesOf.get(eventType))).map(([eventType]) => eventType);
  const candidates = await webhookSubscriptions.withPayloadQueriesSelecting(tx, tenantId, [...new Set([changed, ...renamed, ...retyped])], MAX_CHECKED_QUERIES + 1);
  const warnings: Warning[] = [];
  for (const subscription of candidates.slice(0, MAX_CHECKED_QUERIES)) {
    if (!checkPayloadQuery(subscription.payloadQuery, schemaBefore, subscription.eventTypes).ok) continue;
    const check = checkPayloadQuery(subscription.payloadQuery, schemaAfter, subscription.eventTypes);
    if (check.ok) continue;
    warnings.push({
      field,
      code: 'PAYLOAD_QUERY_AFFECTED',
      message: `The payload query of webhook subscription ${subscription.id} no longer matches the event schema (${check.message}); it keeps shaping deliveries, with null where a selected field is gone.`,
    });
  }
  if (candidates.length > MAX_CHECKED_QUERIES) {
    warnings.push({
      field,
      code: 'PAYLOAD_QUERY_AFFECTED',
      message: `More than ${MAX_CHECKED_QUERIES} webhook subscriptions have a payload query selecting the changed event type or one whose names it moved; the ones after ${candidates[MAX_CHECKED_QUERIES - 1].id} (by id) were not checked.`,
    });
  }
  return warnings;
}

function sameNames(a: readonly string[], b: readonly string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((name, i) => name === b[i]);
}
