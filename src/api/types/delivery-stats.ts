import { Field, Int, ObjectType, Float } from 'type-graphql';
import type { SqlExecutor } from '../../db/sql.js';
import { asDate } from '../../delivery/dates.js';
import { uuidv7Floor } from '../../domain/ids.js';

/** Bucket width when `deliveryStats(bucket:)` is not given, in seconds. */
export const DEFAULT_STATS_BUCKET_SECONDS = 60;
/** Widest bucket, in seconds (one day). */
export const MAX_STATS_BUCKET_SECONDS = 86_400;
/** Most buckets one `deliveryStats` call may ask for (a day of minutes). */
export const MAX_STATS_BUCKETS = 1_440;
/** Delivery ids come from the app's clock, `created_at` from the database's: the id range is this much wider. */
const CLOCK_SKEW_MS = 60_000;

@ObjectType({ description: 'Deliveries created in one time bucket, counted by their current status, with the publish → success latency of those that succeeded.' })
export class DeliveryStatsBucket {
  @Field({ description: 'Start of the bucket (inclusive); the bucket ends `bucketSeconds` later, or at `until`.' })
  start!: Date;

  @Field(() => Int, { description: 'Deliveries not tried yet, or waiting for a manual retry or replay to be picked up.' })
  pending!: number;

  @Field(() => Int, { description: 'Deliveries with an attempt in flight.' })
  sending!: number;

  @Field(() => Int, { description: 'Deliveries a receiver answered with a 2xx.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Deliveries that failed and have a next attempt scheduled.' })
  retrying!: number;

  @Field(() => Int, { description: 'Deliveries that failed and will not be tried again.' })
  failed!: number;

  @Field(() => Int, { description: 'Deliveries cancelled because their subscription was no longer enabled.' })
  cancelled!: number;

  @Field(() => Int, { description: 'All deliveries of the bucket, whatever their status.' })
  total!: number;

  @Field(() => Float, { nullable: true, description: 'Median time from publish to success of the SUCCEEDED deliveries, in whole milliseconds (a Float: a retried delivery may take longer than an Int can count); null when none succeeded.' })
  latencyP50Ms!: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile of the time from publish to success of the SUCCEEDED deliveries, in whole milliseconds; null when none succeeded.' })
  latencyP95Ms!: number | null;
}

@ObjectType({
  description:
    "The tenant's deliveries per time bucket by the time they were created (published): each delivery is counted once, in the bucket of its creation, under its current status.",
})
export class DeliveryStats {
  @Field({ description: 'Start of the first bucket: `since` rounded down to a multiple of the bucket width (counted from 1970-01-01T00:00:00Z).' })
  since!: Date;

  @Field({ description: 'End of the range (exclusive): `until`, or the time of the query.' })
  until!: Date;

  @Field(() => Int, { description: 'Width of every bucket, in seconds (the last one may be cut short by `until`).' })
  bucketSeconds!: number;

  @Field(() => [DeliveryStatsBucket], { description: 'One entry per bucket from `since` to `until`, oldest first; buckets without deliveries are included with zero counts.' })
  buckets!: DeliveryStatsBucket[];

  @Field(() => DeliveryStatsBucket, { description: 'The whole range as one bucket (starting at `since`): totals, and the latency percentiles over every SUCCEEDED delivery in it.' })
  total!: DeliveryStatsBucket;
}

interface StatsRow {
  start: Date | string | null;
  whole: boolean;
  pending: number | null;
  sending: number | null;
  succeeded: number | null;
  retrying: number | null;
  failed: number | null;
  cancelled: number | null;
  total: number | null;
  p50: number | null;
  p95: number | null;
}

/**
 * One statement: the tenant's deliveries created in [since, until) through the
 * (tenant_id, id) index (ids are UUIDv7, so the time range is an id range),
 * grouped per bucket and once for the whole range, joined onto every bucket of
 * the range. Latency is `updated_at − created_at` of SUCCEEDED deliveries:
 * `updated_at` is written with the success, and `created_at` is the event's
 * creation time (both are written by the publish transaction's `now()`). A
 * replayed delivery counts from its original publish.
 *
 * `since` must already be a multiple of `bucketSeconds` (see DeliveryStats.since).
 */
export async function deliveryStats(db: SqlExecutor, tenantId: string, since: Date, until: Date, bucketSeconds: number): Promise<DeliveryStats> {
  const { rows } = await db.query<StatsRow>(
    `with d as (
       select date_bin(make_interval(secs => $4::int), created_at, $2::timestamptz) as start, status,
              case when status = 'SUCCEEDED' then extract(epoch from updated_at - created_at) * 1000 end as latency_ms
         from delivery
        where tenant_id = $1 and id >= $5::uuid and id < $6::uuid and created_at >= $2 and created_at < $3
     ), agg as (
       select start, grouping(start) = 1 as whole,
              count(*) filter (where status = 'PENDING')::int as pending,
              count(*) filter (where status = 'SENDING')::int as sending,
              count(*) filter (where status = 'SUCCEEDED')::int as succeeded,
              count(*) filter (where status = 'RETRYING')::int as retrying,
              count(*) filter (where status = 'FAILED')::int as failed,
              count(*) filter (where status = 'CANCELLED')::int as cancelled,
              count(*)::int as total,
              round(percentile_cont(0.5) within group (order by latency_ms))::float8 as p50,
              round(percentile_cont(0.95) within group (order by latency_ms))::float8 as p95
         from d group by grouping sets ((start), ())
     )
     select s.start, false as whole, a.pending, a.sending, a.succeeded, a.retrying, a.failed, a.cancelled, a.total, a.p50, a.p95
       from generate_series($2::timestamptz, $3::timestamptz, make_interval(secs => $4::int)) as s(start)
       left join agg a on a.start = s.start and not a.whole
      where s.start < $3
     union all
     select null, true, a.pending, a.sending, a.succeeded, a.retrying, a.failed, a.cancelled, a.total, a.p50, a.p95 from agg a where a.whole
     order by whole, start`,
    [tenantId, since, until, bucketSeconds, uuidv7Floor(new Date(since.getTime() - CLOCK_SKEW_MS)), uuidv7Floor(new Date(until.getTime() + CLOCK_SKEW_MS))],
  );
  const bucket = (row: StatsRow | undefined, start: Date): DeliveryStatsBucket =>
    Object.assign(new DeliveryStatsBucket(), {
      start,
      pending: row?.pending ?? 0,
      sending: row?.sending ?? 0,
      succeeded: row?.succeeded ?? 0,
      retrying: row?.retrying ?? 0,
      failed: row?.failed ?? 0,
      cancelled: row?.cancelled ?? 0,
      total: row?.total ?? 0,
      latencyP50Ms: row?.p50 ?? null,
      latencyP95Ms: row?.p95 ?? null,
    });
  return Object.assign(new DeliveryStats(), {
    since,
    until,
    bucketSeconds,
    buckets: rows.filter((row) => !row.whole).map((row) => bucket(row, asDate(row.start!))),
    total: bucket(rows.find((row) => row.whole), since),
  });
}
