import { Migration } from '@mikro-orm/migrations';

export class Migration20261202004102_rate_tat extends Migration {

  override name = 'Migration20261202004102_rate_tat';

  /* The rate limit's shared arrival time; nullable without a default, so adding it rewrites nothing, and not indexed, so its updates stay HOT. */
  override up(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" add "rate_tat" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" drop column "rate_tat";`);
  }

}
