import type { NonEmptyArray } from 'type-graphql';
import { ApiKeyResolver } from './ApiKeyResolver.js';
import { LiveResolver } from './LiveResolver.js';
import { TenantResolver } from './TenantResolver.js';
import { EventTypeResolver } from './EventTypeResolver.js';
import { WebhookSubscriptionResolver } from './WebhookSubscriptionResolver.js';
import { EventResolver } from './EventResolver.js';
import { DeliveryResolver } from './DeliveryResolver.js';
import { DeliveryStatsResolver } from './DeliveryStatsResolver.js';
import { WebhookSubscriptionOperationsResolver } from './WebhookSubscriptionOperationsResolver.js';
import { EventSchemaResolver } from './EventSchemaResolver.js';

/** Every resolver class of the schema. */
export const RESOLVERS: NonEmptyArray<Function> = [TenantResolver, ApiKeyResolver, EventTypeResolver, WebhookSubscriptionResolver, EventResolver, DeliveryResolver, DeliveryStatsResolver, WebhookSubscriptionOperationsResolver, EventSchemaResolver, LiveResolver];
