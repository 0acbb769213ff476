import { Migration } from '@mikro-orm/migrations';

/**
 * Stored payload plans gave a root field of type `JSON` (selected without a
 * sub-selection) an empty projection, `[]`, which shaped its deliveries to
 * `{}`; such a root field is now `null`: the whole payload. Only entries that
 * are `[]` change. The one other query that stored `[]` is one whose every
 * field of the event type is skipped (`orderCreated { id @skip(if: true) }`):
 * it selected nothing and now delivers the payload whole. Compiling refuses
 * such a query now, so no compile gives `[]` again and a migrated plan is never
 * turned back: a save that compiles the stored query again (new `eventTypes`
 * under it) is refused until its selection names a field. Deliveries already
 * made keep their bodies.
 */
export const PAYLOAD_PLAN_JSON_ROOTS_SQL = `update "webhook_subscription" set "payload_plan" = (
    select jsonb_object_agg(e.key, case when e.value = '[]'::jsonb then 'null'::jsonb else e.value end) from jsonb_each("payload_plan") e)
  where jsonb_typeof("payload_plan") = 'object' and exists (select 1 from jsonb_each("payload_plan") e where e.value = '[]'::jsonb);`;

export class Migration20261202033000_payload_plan_json_roots extends Migration {

  override name = 'Migration20261202033000_payload_plan_json_roots';

  override up(): void | Promise<void> {
    this.addSql(PAYLOAD_PLAN_JSON_ROOTS_SQL);
  }

  /* Earlier releases deliver a null entry whole as well: nothing to undo. */
  override down(): void | Promise<void> {}

}
