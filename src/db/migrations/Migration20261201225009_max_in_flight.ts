import { Migration } from '@mikro-orm/migrations';

export class Migration20261201225009_max_in_flight extends Migration {

  override name = 'Migration20261201225009_max_in_flight';

  /* A subscription's own in-flight cap (null: the worker's default); nullable without a default, so adding it rewrites nothing. */
  override up(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" add "max_in_flight" int null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" drop column "max_in_flight";`);
  }

}
