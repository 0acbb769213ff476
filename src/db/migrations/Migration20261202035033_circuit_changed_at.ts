import { Migration } from '@mikro-orm/migrations';

export class Migration20261202035033_circuit_changed_at extends Migration {

  override name = 'Migration20261202035033_circuit_changed_at';

  /* A nullable column without a default and without an index: adding it rewrites no row, and the circuit's updates of it stay HOT. */
  override up(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" add "circuit_changed_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_subscription" drop column "circuit_changed_at";`);
  }

}
