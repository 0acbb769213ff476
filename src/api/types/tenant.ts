import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import type { ApiKey as ApiKeyEntity } from '../../domain/entities/ApiKey.js';
import type { Tenant as TenantEntity } from '../../domain/entities/Tenant.js';
import { UserError } from '../errors.js';

registerEnumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  description: 'What a key may do. ADMIN: everything in its tenant; PUBLISH: publish events; READ: read everything.',
  valuesConfig: {
    ADMIN: { description: 'Everything in the tenant: keys, event types, subscriptions, retries and replays, and all READ and PUBLISH may do.' },
    PUBLISH: { description: 'Publish events (eventPublish, eventsPublish); the events returned show neither payload nor deliveries.' },
    READ: { description: 'Read everything in the tenant and subscribe to its live updates.' },
  },
});

@ObjectType({ description: 'An isolated application; owns event types, subscriptions, events and keys.' })
export class Tenant {
  @Field(() => ID, { description: 'Unique id of the tenant.' })
  id!: string;

  @Field({ description: 'Display name, 1–200 characters.' })
  name!: string;

  @Field({ description: 'When the tenant was created.' })
  createdAt!: Date;

  static from(entity: TenantEntity): Tenant {
    return Object.assign(new Tenant(), { id: entity.id, name: entity.name, createdAt: entity.createdAt });
  }
}

@ObjectType({ description: 'A bearer key of a tenant. The key itself is shown once, on creation.' })
export class ApiKey {
  @Field(() => ID, { description: 'Unique id of the key; pass it to apiKeyRevoke.' })
  id!: string;

  @Field({ description: 'Label given on creation, 1–200 characters.' })
  name!: string;

  @Field({ description: 'First characters of the key, to recognise it.' })
  prefix!: string;

  @Field(() => [ApiKeyScope], { description: 'What the key may do.' })
  scopes!: ApiKeyScope[];

  @Field({ description: 'When the key was created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the key was revoked; null while it works.' })
  revokedAt!: Date | null;

  static from(entity: ApiKeyEntity): ApiKey {
    return Object.assign(new ApiKey(), {
      id: entity.id,
      name: entity.name,
      prefix: entity.prefix,
      scopes: entity.scopes,
      createdAt: entity.createdAt,
      revokedAt: entity.revokedAt ?? null,
    });
  }
}

@InputType({ description: 'The tenant to create.' })
export class TenantCreateInput {
  @Field({ description: 'Display name, 1–200 characters (surrounding spaces are trimmed).' })
  name!: string;
}

@ObjectType({ description: "Result of tenantCreate: the tenant, its first key and that key's plain text, or userErrors." })
export class TenantCreatePayload {
  @Field(() => Tenant, { nullable: true, description: 'The new tenant; null when userErrors is not empty.' })
  tenant?: Tenant | null;

  @Field(() => ApiKey, { nullable: true, description: 'The first ADMIN key of the tenant.' })
  apiKey?: ApiKey | null;

  @Field(() => String, { nullable: true, description: 'The key in plain text; shown only here.' })
  apiKeySecret?: string | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}

@InputType({ description: "A key to create in the caller's tenant." })
export class ApiKeyCreateInput {
  @Field({ description: 'Label to recognise the key by, 1–200 characters.' })
  name!: string;

  @Field(() => [ApiKeyScope], { description: 'What the key may do; at least one.' })
  scopes!: ApiKeyScope[];
}

@ObjectType({ description: 'Result of apiKeyCreate: the new key and its plain text, or userErrors.' })
export class ApiKeyCreatePayload {
  @Field(() => ApiKey, { nullable: true, description: 'The new key; null when userErrors is not empty.' })
  apiKey?: ApiKey | null;

  @Field(() => String, { nullable: true, description: 'The key in plain text; shown only here.' })
  apiKeySecret?: string | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}

@InputType({ description: 'The key to revoke.' })
export class ApiKeyRevokeInput {
  @Field(() => ID, { description: 'Id of the key to revoke.' })
  id!: string;
}

@ObjectType({ description: 'Result of apiKeyRevoke.' })
export class ApiKeyRevokePayload {
  @Field(() => ApiKey, { nullable: true, description: 'The revoked key, `revokedAt` set (revoking again keeps the first time); null when userErrors is not empty.' })
  apiKey?: ApiKey | null;

  @Field(() => [UserError], { description: 'Problems with the input; empty on success, otherwise nothing was changed.' })
  userErrors!: UserError[];
}

@ObjectType({ description: 'The caller: its tenant and key. The root key sees `root: true` and no tenant.' })
export class Viewer {
  @Field({ description: "True for the operator's root key, which only creates tenants." })
  root!: boolean;

  @Field(() => Tenant, { nullable: true, description: "The key's tenant; null for the root key." })
  tenant!: Tenant | null;

  @Field(() => ApiKey, { nullable: true, description: 'The key making the request; null for the root key.' })
  apiKey!: ApiKey | null;

  @Field(() => [ApiKeyScope], { description: "The key's scopes; empty for the root key." })
  scopes!: ApiKeyScope[];
}
