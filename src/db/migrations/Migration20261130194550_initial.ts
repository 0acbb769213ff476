import { Migration } from '@mikro-orm/migrations';

export class Migration20261130194550_initial extends Migration {

  override name = 'Migration20261130194550_initial';

  override up(): void | Promise<void> {
    this.addSql(`create table "tenant" ("id" uuid not null, "name" text not null, "created_at" timestamptz not null, primary key ("id"));`);

    this.addSql(`create table "event_type" ("id" uuid not null, "tenant_id" uuid not null, "name" text not null, "description" text null, "schema" jsonb null, "archived_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "event_type" add constraint "event_type_tenant_id_name_unique" unique ("tenant_id", "name");`);

    this.addSql(`create table "event" ("id" uuid not null, "tenant_id" uuid not null, "event_type" text not null, "body" text not null, "idempotency_key" text null, "occurred_at" timestamptz not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create unique index "event_tenant_idempotency_key_unique" on "event" ("tenant_id", "idempotency_key") where "idempotency_key" is not null;`);
    this.addSql(`create index "event_tenant_id_event_type_id_index" on "event" ("tenant_id", "event_type", "id");`);
    this.addSql(`create index "event_tenant_id_id_index" on "event" ("tenant_id", "id");`);

    this.addSql(`create table "api_key" ("id" uuid not null, "tenant_id" uuid not null, "name" text not null, "prefix" text not null, "hash" text not null, "scopes" text[] not null, "created_at" timestamptz not null, "revoked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "api_key" add constraint "api_key_hash_unique" unique ("hash");`);
    this.addSql(`create index "api_key_tenant_id_created_at_index" on "api_key" ("tenant_id", "created_at");`);

    this.addSql(`create table "webhook_subscription" ("id" uuid not null, "tenant_id" uuid not null, "url" text not null, "event_types" text[] not null, "description" text null, "filter" jsonb null, "headers" jsonb not null, "metadata" jsonb null, "status" text not null default 'ENABLED', "disabled_reason" text null, "secret_encrypted" text not null, "previous_secret_encrypted" text null, "previous_secret_expires_at" timestamptz null, "rate_limit_per_second" int null, "ordered" boolean not null default false, "last_success_at" timestamptz null, "failing_since" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "webhook_subscription_tenant_id_status_index" on "webhook_subscription" ("tenant_id", "status");`);

    this.addSql(`create table "delivery" ("id" uuid not null, "tenant_id" uuid not null, "event_id" uuid not null, "webhook_subscription_id" uuid not null, "status" text not null default 'PENDING', "attempt_count" int not null default 0, "next_attempt_at" timestamptz null, "last_response_status" int null, "last_error" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "delivery_status_updated_at_index" on "delivery" ("status", "updated_at");`);
    this.addSql(`create index "delivery_event_id_index" on "delivery" ("event_id");`);
    this.addSql(`create index "delivery_webhook_subscription_id_status_id_index" on "delivery" ("webhook_subscription_id", "status", "id");`);
    this.addSql(`create index "delivery_tenant_id_id_index" on "delivery" ("tenant_id", "id");`);

    this.addSql(`create table "delivery_attempt" ("id" uuid not null, "delivery_id" uuid not null, "attempt_number" int not null, "started_at" timestamptz not null, "duration_ms" int not null, "request_headers" jsonb not null, "response_status" int null, "response_headers" jsonb null, "response_body" text null, "error_kind" text null, "error" text null, primary key ("id"));`);
    this.addSql(`create index "delivery_attempt_started_at_index" on "delivery_attempt" ("started_at");`);
    this.addSql(`create index "delivery_attempt_delivery_id_attempt_number_index" on "delivery_attempt" ("delivery_id", "attempt_number");`);

    this.addSql(`alter table "event_type" add constraint "event_type_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on delete cascade;`);

    this.addSql(`alter table "event" add constraint "event_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on delete cascade;`);

    this.addSql(`alter table "api_key" add constraint "api_key_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on delete cascade;`);
    this.addSql(`alter table "api_key" add constraint "api_key_scopes_check" check ("scopes" <@ array['ADMIN'::text, 'PUBLISH'::text, 'READ'::text]);`);

    this.addSql(`alter table "webhook_subscription" add constraint "webhook_subscription_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on delete cascade;`);
    this.addSql(`alter table "webhook_subscription" add constraint "webhook_subscription_status_check" check ("status" in ('ENABLED', 'DISABLED', 'FAILING_DISABLED'));`);

    this.addSql(`alter table "delivery" add constraint "delivery_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on delete cascade;`);
    this.addSql(`alter table "delivery" add constraint "delivery_event_id_foreign" foreign key ("event_id") references "event" ("id") on delete cascade;`);
    this.addSql(`alter table "delivery" add constraint "delivery_webhook_subscription_id_foreign" foreign key ("webhook_subscription_id") references "webhook_subscription" ("id") on delete cascade;`);
    this.addSql(`alter table "delivery" add constraint "delivery_status_check" check ("status" in ('PENDING', 'SENDING', 'SUCCEEDED', 'RETRYING', 'FAILED', 'CANCELLED'));`);

    this.addSql(`alter table "delivery_attempt" add constraint "delivery_attempt_delivery_id_foreign" foreign key ("delivery_id") references "delivery" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "event_type" drop constraint "event_type_tenant_id_foreign";`);
    this.addSql(`alter table "event" drop constraint "event_tenant_id_foreign";`);
    this.addSql(`alter table "api_key" drop constraint "api_key_tenant_id_foreign";`);
    this.addSql(`alter table "webhook_subscription" drop constraint "webhook_subscription_tenant_id_foreign";`);
    this.addSql(`alter table "delivery" drop constraint "delivery_tenant_id_foreign";`);
    this.addSql(`alter table "delivery" drop constraint "delivery_event_id_foreign";`);
    this.addSql(`alter table "delivery" drop constraint "delivery_webhook_subscription_id_foreign";`);
    this.addSql(`alter table "delivery_attempt" drop constraint "delivery_attempt_delivery_id_foreign";`);

    this.addSql(`drop table if exists "tenant" cascade;`);
    this.addSql(`drop table if exists "event_type" cascade;`);
    this.addSql(`drop table if exists "event" cascade;`);
    this.addSql(`drop table if exists "api_key" cascade;`);
    this.addSql(`drop table if exists "webhook_subscription" cascade;`);
    this.addSql(`drop table if exists "delivery" cascade;`);
    this.addSql(`drop table if exists "delivery_attempt" cascade;`);
  }

}
