import { Migration } from '@mikro-orm/migrations';

export class Migration20261202004036_retry_schedule extends Migration {

  override name = 'Migration20261202004036_retry_schedule';

  /* A subscription's own retry delays in ms (null: the server's schedule); nullable without a default, so adding it rewrites nothing. */
  override up(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" add "retry_schedule" jsonb null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" drop column "retry_schedule";`);
  }

}
