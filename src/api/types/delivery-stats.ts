import { Field, Int, ObjectType, Float } from 'type-graphql';
import type * as deliveries from '../../store/deliveries.js';

/** Bucket width when `deliveryStats(bucket:)` is not given, in seconds. */
export const DEFAULT_STATS_BUCKET_SECONDS = 60;
/** Widest bucket, in seconds (one day). */
export const MAX_STATS_BUCKET_SECONDS = 86_400;
/** Most buckets one `deliveryStats` call may ask for (a day of minutes). */
export const MAX_STATS_BUCKETS = 1_440;

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

  static from(bucket: deliveries.StatsBucket): DeliveryStatsBucket {
    return Object.assign(new DeliveryStatsBucket(), bucket);
  }
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

  static from(stats: deliveries.DeliveryStats): DeliveryStats {
    return Object.assign(new DeliveryStats(), {
      since: stats.since,
      until: stats.until,
      bucketSeconds: stats.bucketSeconds,
      buckets: stats.buckets.map(DeliveryStatsBucket.from),
      total: DeliveryStatsBucket.from(stats.total),
    });
  }
}
