import type { NonEmptyArray } from 'type-graphql';
import { ApiKeyResolver } from './ApiKeyResolver.js';
import { TenantResolver } from './TenantResolver.js';
import { EventTypeResolver } from './EventTypeResolver.js';
import { WebhookSubscriptionResolver } from './WebhookSubscriptionResolver.js';

/** Every resolver class of the schema. */
export const RESOLVERS: NonEmptyArray<Function> = [TenantResolver, ApiKeyResolver, EventTypeResolver, WebhookSubscriptionResolver];
