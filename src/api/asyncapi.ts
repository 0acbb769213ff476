import { SYSTEM_EVENT_TYPES } from '../domain/operational-events.js';
import type { Express } from 'express';
import { ApiKeyScope } from '../domain/entities/ApiKey.js';
import { VERSION } from '../delivery/version.js';
import * as eventTypes from '../store/event-types.js';
import { allows, authenticate } from './auth.js';
import type { Services } from './context.js';
import { formatBytes } from './query-limits.js';

/** What the catalog needs of an event type. */
export interface CatalogEventType {
  name: string;
  description?: string | null;
  /** JSON Schema (draft-07) of `data`; null or undefined accepts any value. */
  schema?: unknown;
}

const HEADERS = 'StandardWebhooksHeaders';

/** The Standard Webhooks headers every delivery carries (src/delivery/signing.ts). */
const headersSchema = {
  type: 'object',
  description: 'Standard Webhooks headers (https://www.standardwebhooks.com); verify the signature before trusting the body.',
  required: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
  properties: {
    'webhook-id': {
      type: 'string',
      format: 'uuid',
      description: 'The event id, the same on every retry of the event: use it to drop duplicates.',
    },
    'webhook-timestamp': {
      type: 'string',
      pattern: '^[0-9]+$',
      description: 'Unix time in seconds of this attempt; refuse messages too far from your clock to stop replays.',
    },
    'webhook-signature': {
      type: 'string',
      pattern: '^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$',
      description:
        'Space-separated `v1,<base64 HMAC-SHA256>` signatures of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the subscription secret (without its `whsec_` prefix, base64-decoded); more than one while a previous secret is still valid after a rotation.',
    },
  },
};

/**
 * A JSON Schema placed at `pointer` inside the document: its local `$ref`s
 * (`#/definitions/…`) are rebased onto that location, and its root `$id` and
 * `$schema` are dropped, so references resolve against the AsyncAPI document.
 */
function rebase(schema: unknown, pointer: string): unknown {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, key === '$ref' && typeof inner === 'string' && (inner === '#' || inner.startsWith('#/')) ? pointer + inner.slice(1) : walk(inner)]),
    );
  };
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const { $id: _id, $schema: _schema, ...rest } = schema as Record<string, unknown>;
  return walk(rest);
}

/**
 * An AsyncAPI 3.0 document of a tenant's event types, from hookgraph's side:
 * one channel per event type (its address is the type name), a `send`
 * operation on each, and a message whose payload is the delivered envelope
 * `{id, type, timestamp, data}` with the type's JSON Schema under `data`.
 * Component keys are the type names, which cannot clash with the capitalised
 * shared ones.
 */
export function asyncApiDocument(eventTypes: readonly CatalogEventType[]): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { [HEADERS]: headersSchema };
  for (const type of [...eventTypes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const { name } = type;
    const description = type.description ?? undefined;
    // Component schemas must be objects: the boolean schemas hookgraph accepts become their object forms.
    schemas[name] =
      type.schema === null || type.schema === undefined || type.schema === true
        ? { description: `Any JSON value: "${name}" has no schema.` }
        : type.schema === false
          ? { not: {}, description: `No value: "${name}" accepts no payload.` }
          : rebase(type.schema, `#/components/schemas/${name}`);
    messages[name] = {
      name,
      title: name,
      ...(description ? { summary: description } : {}),
      contentType: 'application/json',
      headers: { $ref: `#/components/schemas/${HEADERS}` },
      payload: {
        type: 'object',
        required: ['id', 'type', 'timestamp', 'data'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', format: 'uuid', description: 'The event id (also in webhook-id).' },
          type: { type: 'string', const: name, description: 'The event type.' },
          timestamp: { type: 'string', format: 'date-time', description: 'When the event occurred (occurredAt at publish, else the publish time).' },
          data: { $ref: `#/components/schemas/${name}` },
        },
      },
    };
    channels[name] = {
      address: name,
      title: name,
      ...(description ? { description } : {}),
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
    };
    operations[name] = {
      action: 'send',
      title: `Deliver ${name}`,
      summary: `POSTs each "${name}" event to every webhook subscription whose event types match it.`,
      channel: { $ref: `#/channels/${name}` },
      messages: [{ $ref: `#/channels/${name}/messages/${name}` }],
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'hookgraph webhooks',
      version: VERSION,
      description:
        "This tenant's event types as hookgraph delivers them: each event is POSTed as JSON to the url of every matching webhook subscription, signed with the Standard Webhooks headers, and retried until the receiver answers 2xx.",
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas, messages },
  };
}

/**
 * `GET /asyncapi.json`: the caller's tenant catalog. Needs a tenant key with
 * READ (ADMIN implies it); 401 without a valid key, 403 for the root key or a
 * key without the scope.
 */
export function mountAsyncApi(app: Express, services: Services): void {
  app.get('/asyncapi.json', async (req, res) => {
    const refuse = (status: number, code: string, message: string) => {
      if (status === 401) res.set('WWW-Authenticate', 'Bearer');
      res.status(status).set('Cache-Control', 'no-store').json({ error: { code, message } });
    };
    try {
      const principal = await authenticate(services.db, services.rootKey, req.headers.authorization);
      if (principal.kind === 'anonymous' || principal.kind === 'invalid') return refuse(401, 'UNAUTHENTICATED', 'Send a tenant API key as "Authorization: Bearer <key>".');
      if (principal.kind === 'root') return refuse(403, 'FORBIDDEN', 'The root key only manages tenants; use a tenant API key.');
      if (!allows(principal.scopes, ApiKeyScope.READ)) return refuse(403, 'FORBIDDEN', 'This key lacks the scope for the event catalog (needs READ).');
      const types = [...(await eventTypes.active(services.db, principal.tenantId)), ...SYSTEM_EVENT_TYPES];
      const body = JSON.stringify(asyncApiDocument(types));
      // The same cap as a GraphQL answer: many large schemas make a large catalog.
      if (Buffer.byteLength(body) > services.config.maxResponseBytes) {
        return refuse(413, 'RESPONSE_TOO_LARGE', `The catalog is larger than the ${formatBytes(services.config.maxResponseBytes)} answer limit (HOOKGRAPH_MAX_RESPONSE_BYTES); archive unused event types or raise the limit.`);
      }
      res.set('Cache-Control', 'no-store').type('application/json').send(body);
    } catch (err) {
      services.log.error('could not serve /asyncapi.json', { err });
      refuse(500, 'INTERNAL_SERVER_ERROR', 'The server hit an unexpected error.');
    }
  });
}
