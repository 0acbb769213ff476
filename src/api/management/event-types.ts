import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Em } from '../../db/orm.js';
import { EventType as EventTypeEntity } from '../../domain/entities/EventType.js';
import { Tenant as TenantEntity } from '../../domain/entities/Tenant.js';
import { jsonSchemaProblem } from '../../domain/json-schema.js';
import { isValidEventTypeName, MAX_EVENT_TYPE_NAME_LENGTH } from '../../domain/patterns.js';
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
  return [];
}

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

async function findByName(em: Em, tenantId: string, name: string): Promise<EventTypeEntity> {
  const found = isValidEventTypeName(name) ? await em.findOne(EventTypeEntity, { tenant: tenantId, name }) : null;
  if (!found) throw new UserInputFailure([userError(['input', 'name'], UserErrorCode.NOT_FOUND, `No event type named "${name.slice(0, MAX_EVENT_TYPE_NAME_LENGTH)}".`)]);
  return found;
}

export async function createEventType(em: Em, tenantId: string, input: { name: string; description?: string | null; schema?: unknown }): Promise<EventTypeEntity> {
  const name = input.name.trim();
  const errors = [...nameErrors(name), ...detailErrors(input)];
  if (errors.length) throw new UserInputFailure(errors);
  const taken = () =>
    new UserInputFailure([userError(['input', 'name'], UserErrorCode.TAKEN, `An event type named "${name}" already exists (archived ones too: restore it with eventTypeUpdate).`)]);
  if (await em.count(EventTypeEntity, { tenant: tenantId, name })) throw taken();
  const eventType = em.create(EventTypeEntity, {
    tenant: em.getReference(TenantEntity, tenantId),
    name,
    description: input.description?.trim() || null,
    schema: input.schema ?? null,
  });
  try {
    await em.flush();
  } catch (error) {
    // Two creates racing for the same name: the unique index decides.
    if (error instanceof UniqueConstraintViolationException) throw taken();
    throw error;
  }
  return eventType;
}

export async function updateEventType(
  em: Em,
  tenantId: string,
  input: { name: string; description?: string | null; schema?: unknown; archived?: boolean | null },
): Promise<EventTypeEntity> {
  const errors = detailErrors(input);
  if (errors.length) throw new UserInputFailure(errors);
  const eventType = await findByName(em, tenantId, input.name.trim());
  if (input.description !== undefined) eventType.description = input.description?.trim() || null;
  if (input.schema !== undefined) eventType.schema = input.schema ?? null;
  if (input.archived === true) eventType.archivedAt ??= new Date();
  if (input.archived === false) eventType.archivedAt = null;
  await em.flush();
  return eventType;
}

/** The tenant's event types that accept events, by name (the AsyncAPI catalog). */
export async function activeEventTypes(em: Em, tenantId: string): Promise<EventTypeEntity[]> {
  return em.find(EventTypeEntity, { tenant: tenantId, archivedAt: null }, { orderBy: { name: 'asc' } });
}

/** Archives a type: new events of it are refused, history stays. Archiving twice keeps the first time. */
export async function archiveEventType(em: Em, tenantId: string, name: string): Promise<EventTypeEntity> {
  const eventType = await findByName(em, tenantId, name.trim());
  eventType.archivedAt ??= new Date();
  await em.flush();
  return eventType;
}
