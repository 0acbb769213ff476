import type { NonEmptyArray } from 'type-graphql';
import { ApiKeyResolver } from './ApiKeyResolver.js';
import { TenantResolver } from './TenantResolver.js';

/** Every resolver class of the schema. */
export const RESOLVERS: NonEmptyArray<Function> = [TenantResolver, ApiKeyResolver];
