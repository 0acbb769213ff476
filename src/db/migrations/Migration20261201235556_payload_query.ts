import { Migration } from '@mikro-orm/migrations';

export class Migration20261201235556_payload_query extends Migration {

  override name = 'Migration20261201235556_payload_query';

  /* Nullable columns without defaults: adding them rewrites no row. A delivery's body is set only when a payload query shaped it. */
  override up(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" add "payload_query" text null, add "payload_plan" jsonb null;`);

    this.addSql(`alter table "delivery" add "body" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "delivery" drop column "body";`);

    this.addSql(`alter table "webhook_subscription" drop column "payload_query", drop column "payload_plan";`);
  }

}
