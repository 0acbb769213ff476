import { Arg, Authorized, Ctx, Int, Query, Resolver, UseMiddleware } from 'type-graphql';
import { storableInput } from '../input-guard.js';
import { ApiKeyScope } from '../../domain/entities/ApiKey.js';
import * as deliveries from '../../store/deliveries.js';
import { tenantOf } from '../auth.js';
import type { Context } from '../context.js';
import { badUserInput } from '../errors.js';
import { DEFAULT_STATS_BUCKET_SECONDS, DeliveryStats, MAX_STATS_BUCKET_SECONDS, MAX_STATS_BUCKETS } from '../types/delivery-stats.js';

const DAY_MS = 24 * 60 * 60 * 1000;

// Text PostgreSQL cannot store is refused at the root fields (see input-guard.ts).
@UseMiddleware(storableInput)
@Resolver()
export class DeliveryStatsResolver {
  @Authorized(ApiKeyScope.READ)
  @Query(() => DeliveryStats, {
    description: `The tenant's deliveries created in [since, until), counted per bucket by current status, with p50/p95 publish → success latency; at most ${MAX_STATS_BUCKETS.toLocaleString('en-US')} buckets per call, since no earlier than the retention period.`,
  })
  async deliveryStats(
    @Arg('since', { description: 'Start of the range; rounded down to a multiple of the bucket width. No earlier than the retention period (HOOKGRAPH_RETENTION_DAYS) before now.' }) since: Date,
    @Arg('until', () => Date, { nullable: true, description: 'End of the range, exclusive (default: now).' }) until: Date | null,
    @Arg('bucket', () => Int, { nullable: true, description: `Bucket width in seconds, 1 to ${MAX_STATS_BUCKET_SECONDS.toLocaleString('en-US')} (default ${DEFAULT_STATS_BUCKET_SECONDS}).` }) bucket: number | null,
    @Ctx() context: Context,
  ): Promise<DeliveryStats> {
    const bucketSeconds = bucket ?? DEFAULT_STATS_BUCKET_SECONDS;
    if (bucketSeconds < 1 || bucketSeconds > MAX_STATS_BUCKET_SECONDS) throw badUserInput('bucket', `must be between 1 and ${MAX_STATS_BUCKET_SECONDS} seconds`);
    const now = Date.now();
    const { retentionDays } = context.services.config;
    if (since.getTime() < now - retentionDays * DAY_MS) throw badUserInput('since', `must be within the retention period (the last ${retentionDays} days); older deliveries are pruned`);
    const end = until ?? new Date(now);
    if (end.getTime() <= since.getTime()) throw until ? badUserInput('until', 'must be after since') : badUserInput('since', 'must be in the past (or give a later until)');
    const widthMs = bucketSeconds * 1000;
    const start = new Date(Math.floor(since.getTime() / widthMs) * widthMs);
    const count = Math.ceil((end.getTime() - start.getTime()) / widthMs);
    if (count > MAX_STATS_BUCKETS) throw badUserInput('bucket', `gives ${count} buckets from since to until; at most ${MAX_STATS_BUCKETS} per call (widen the bucket or narrow the range)`);
    return DeliveryStats.from(await deliveries.stats(context.services.db, tenantOf(context), start, end, bucketSeconds));
  }
}
