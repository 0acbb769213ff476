import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import type { ApiKey as ApiKeyEntity } from '../../domain/entities/ApiKey.js';
import type { Tenant as TenantEntity } from '../../domain/entities/Tenant.js';
import { UserError } from '../errors.js';

registerEnumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  description: 'What a key may do. ADMIN: everything in its tenant; PUBLISH: publish events; READ: read everything.',
});

@ObjectType({ description: 'An isolated application; owns event types, subscriptions, events and keys.' })
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  createdAt!: Date;

  static from(entity: TenantEntity): Tenant {
    return Object.assign(new Tenant(), { id: entity.id, name: entity.name, createdAt: entity.createdAt });
  }
}

@ObjectType({ description: 'A bearer key of a tenant. The key itself is shown once, on creation.' })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'First characters of the key, to recognise it.' })
  prefix!: string;

  @Field(() => [ApiKeyScope])
  scopes!: ApiKeyScope[];

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
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

@InputType()
export class TenantCreateInput {
  @Field()
  name!: string;
}

@ObjectType()
export class TenantCreatePayload {
  @Field(() => Tenant, { nullable: true })
  tenant?: Tenant | null;

  @Field(() => ApiKey, { nullable: true, description: 'The first ADMIN key of the tenant.' })
  apiKey?: ApiKey | null;

  @Field(() => String, { nullable: true, description: 'The key in plain text; shown only here.' })
  apiKeySecret?: string | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@InputType()
export class ApiKeyCreateInput {
  @Field()
  name!: string;

  @Field(() => [ApiKeyScope])
  scopes!: ApiKeyScope[];
}

@ObjectType()
export class ApiKeyCreatePayload {
  @Field(() => ApiKey, { nullable: true })
  apiKey?: ApiKey | null;

  @Field(() => String, { nullable: true, description: 'The key in plain text; shown only here.' })
  apiKeySecret?: string | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@InputType()
export class ApiKeyRevokeInput {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
export class ApiKeyRevokePayload {
  @Field(() => ApiKey, { nullable: true })
  apiKey?: ApiKey | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType({ description: 'The caller: its tenant and key. The root key sees `root: true` and no tenant.' })
export class Viewer {
  @Field()
  root!: boolean;

  @Field(() => Tenant, { nullable: true })
  tenant!: Tenant | null;

  @Field(() => ApiKey, { nullable: true })
  apiKey!: ApiKey | null;

  @Field(() => [ApiKeyScope])
  scopes!: ApiKeyScope[];
}
