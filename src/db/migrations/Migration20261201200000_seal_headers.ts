import { Migration } from '@mikro-orm/migrations';

export class Migration20261201200000_seal_headers extends Migration {

  override name = 'Migration20261201200000_seal_headers';

  /*
   * Custom header values become sealed secrets. SQL has no HOOKGRAPH_SECRET_KEY,
   * so this only tags the existing plain values `plain:`; the startup step
   * that follows every migration (src/db/seal-rows.ts) seals them. The column
   * keeps its type: names to (sealed) values.
   */
  override up(): void | Promise<void> {
    this.addSql(`update "webhook_subscription"
      set "headers" = (select coalesce(jsonb_object_agg(h.key, 'plain:' || h.value), '{}'::jsonb) from jsonb_each_text("headers") h)
      where "headers" <> '{}'::jsonb;`);
  }

  /* Values sealed since cannot be opened here; only still-tagged ones go back to plain. */
  override down(): void | Promise<void> {
    this.addSql(`update "webhook_subscription"
      set "headers" = (select coalesce(jsonb_object_agg(h.key, case when h.value like 'plain:%' then substr(h.value, 7) else h.value end), '{}'::jsonb) from jsonb_each_text("headers") h)
      where "headers" <> '{}'::jsonb;`);
  }
}
