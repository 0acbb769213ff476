import { Migration } from '@mikro-orm/migrations';

export class Migration20261130210328_delivery_hot extends Migration {

  override name = 'Migration20261130210328_delivery_hot';

  /*
   * Status changes of a delivery become HOT updates (no index writes): B-tree
   * indexes keep only columns whose values do not change along PENDING →
   * SENDING → SUCCEEDED, `updated_at` moves to BRIN (which does not prevent
   * HOT since PostgreSQL 16), and the table leaves room in each page. Adding
   * the stored generated column rewrites the table once.
   */
  override up(): void | Promise<void> {
    this.addSql(`alter table "delivery" drop constraint "delivery_tenant_id_foreign";`);

    this.addSql(`drop index "delivery_status_updated_at_index";`);
    this.addSql(`drop index "delivery_webhook_subscription_id_status_id_index";`);
    this.addSql(`alter table "delivery" add "attention" boolean generated always as (status in ('FAILED', 'RETRYING', 'CANCELLED')) stored not null;`);
    this.addSql(`create index "delivery_updated_at_brin" on "delivery" using brin ("updated_at" timestamptz_minmax_multi_ops);`);
    this.addSql(`create index "delivery_attention_webhook_subscription_id_id_index" on "delivery" ("webhook_subscription_id", "id") where attention;`);
    this.addSql(`create index "delivery_attention_tenant_id_id_index" on "delivery" ("tenant_id", "id") where attention;`);
    this.addSql(`create index "delivery_webhook_subscription_id_id_index" on "delivery" ("webhook_subscription_id", "id");`);

    this.addSql(`drop index "delivery_attempt_started_at_index";`);
    this.addSql(`create index "delivery_attempt_started_at_brin" on "delivery_attempt" using brin ("started_at");`);

    // Room in every page for the new versions of its rows (not expressible as an entity option).
    this.addSql(`alter table "delivery" set (fillfactor = 80);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "delivery" reset (fillfactor);`);
    this.addSql(`drop index "delivery_updated_at_brin";`);
    this.addSql(`drop index "delivery_attention_webhook_subscription_id_id_index";`);
    this.addSql(`drop index "delivery_attention_tenant_id_id_index";`);
    this.addSql(`drop index "delivery_webhook_subscription_id_id_index";`);
    this.addSql(`alter table "delivery" drop column "attention";`);
    this.addSql(`alter table "delivery" add constraint "delivery_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update no action on delete cascade;`);
    this.addSql(`create index "delivery_status_updated_at_index" on "delivery" ("status", "updated_at");`);
    this.addSql(`create index "delivery_webhook_subscription_id_status_id_index" on "delivery" ("webhook_subscription_id", "status", "id");`);

    this.addSql(`drop index "delivery_attempt_started_at_brin";`);
    this.addSql(`create index "delivery_attempt_started_at_index" on "delivery_attempt" ("started_at");`);
  }

}
