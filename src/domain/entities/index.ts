export { Tenant } from './Tenant.js';
export { ApiKey, ApiKeyScope } from './ApiKey.js';
export { EventType } from './EventType.js';
export { WebhookSubscription, WebhookSubscriptionStatus } from './WebhookSubscription.js';
export { Event } from './Event.js';
export { Delivery, DeliveryStatus } from './Delivery.js';
export { DeliveryAttempt } from './DeliveryAttempt.js';

import { Tenant } from './Tenant.js';
import { ApiKey } from './ApiKey.js';
import { EventType } from './EventType.js';
import { WebhookSubscription } from './WebhookSubscription.js';
import { Event } from './Event.js';
import { Delivery } from './Delivery.js';
import { DeliveryAttempt } from './DeliveryAttempt.js';

export const ENTITIES = [Tenant, ApiKey, EventType, WebhookSubscription, Event, Delivery, DeliveryAttempt];
