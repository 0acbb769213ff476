import { Migration } from '@mikro-orm/migrations';

export class Migration20261202004132_circuit_breaker extends Migration {

  override name = 'Migration20261202004132_circuit_breaker';

  /* The circuit breaker's columns: constant defaults and nullable columns (no rewrite), no index (HOT updates). */
  override up(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" add "consecutive_failures" int not null default 0, add "circuit_opened_at" timestamptz null, add "circuit_next_probe_at" timestamptz null, add "circuit_probe_until" timestamptz null, add "circuit_probe_delivery_id" uuid null, add "circuit_probes" int not null default 0;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" drop column "consecutive_failures", drop column "circuit_opened_at", drop column "circuit_next_probe_at", drop column "circuit_probe_until", drop column "circuit_probe_delivery_id", drop column "circuit_probes";`);
  }

}
