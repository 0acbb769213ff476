import { Migration } from '@mikro-orm/migrations';

export class Migration20261201203007_event_traceparent extends Migration {

  override name = 'Migration20261201203007_event_traceparent';

  /* The publish span's traceparent, for the attempt spans; nullable without a default, so adding it rewrites nothing. */
  override up(): void | Promise<void> {
    this.addSql(`alter table "event" add "traceparent" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "event" drop column "traceparent";`);
  }

}
