import type { Migration } from '@mikro-orm/migrations';
import { Migration20261130194550_initial } from './Migration20261130194550_initial.js';
import { Migration20261130210328_delivery_hot } from './Migration20261130210328_delivery_hot.js';
import { Migration20261201200000_seal_headers } from './Migration20261201200000_seal_headers.js';
import { Migration20261201203007_event_traceparent } from './Migration20261201203007_event_traceparent.js';
import { Migration20261201225009_max_in_flight } from './Migration20261201225009_max_in_flight.js';
import { Migration20261201235556_payload_query } from './Migration20261201235556_payload_query.js';
import { Migration20261202004036_retry_schedule } from './Migration20261202004036_retry_schedule.js';
import { Migration20261202004102_rate_tat } from './Migration20261202004102_rate_tat.js';
import { Migration20261202004132_circuit_breaker } from './Migration20261202004132_circuit_breaker.js';
import { Migration20261202004145_ordering_key } from './Migration20261202004145_ordering_key.js';
import { Migration20261202033000_payload_plan_json_roots } from './Migration20261202033000_payload_plan_json_roots.js';
import { Migration20261202035033_circuit_changed_at } from './Migration20261202035033_circuit_changed_at.js';

/** Every migration, in order. Listed explicitly so the compiled build needs no file globbing. */
export const MIGRATIONS: { name: string; class: new (...args: any[]) => Migration }[] = [
  { name: 'Migration20261130194550_initial', class: Migration20261130194550_initial },
  { name: 'Migration20261130210328_delivery_hot', class: Migration20261130210328_delivery_hot },
  { name: 'Migration20261201200000_seal_headers', class: Migration20261201200000_seal_headers },
  { name: 'Migration20261201203007_event_traceparent', class: Migration20261201203007_event_traceparent },
  { name: 'Migration20261201225009_max_in_flight', class: Migration20261201225009_max_in_flight },
  { name: 'Migration20261201235556_payload_query', class: Migration20261201235556_payload_query },
  { name: 'Migration20261202004036_retry_schedule', class: Migration20261202004036_retry_schedule },
  { name: 'Migration20261202004102_rate_tat', class: Migration20261202004102_rate_tat },
  { name: 'Migration20261202004132_circuit_breaker', class: Migration20261202004132_circuit_breaker },
  { name: 'Migration20261202004145_ordering_key', class: Migration20261202004145_ordering_key },
  { name: 'Migration20261202033000_payload_plan_json_roots', class: Migration20261202033000_payload_plan_json_roots },
  { name: 'Migration20261202035033_circuit_changed_at', class: Migration20261202035033_circuit_changed_at },
];
