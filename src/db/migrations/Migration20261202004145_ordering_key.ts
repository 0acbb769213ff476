import { Migration } from '@mikro-orm/migrations';

export class Migration20261202004145_ordering_key extends Migration {

  override name = 'Migration20261202004145_ordering_key';

  /* Nullable columns without defaults: adding them rewrites no row. A delivery's key hash is set only when its subscription orders by key. */
  override up(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" add "ordering_key" text null;`);

    this.addSql(`alter table "delivery" add "ordering_key" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "delivery" drop column "ordering_key";`);

    this.addSql(`alter table "webhook_subscription" drop column "ordering_key";`);
  }

}
