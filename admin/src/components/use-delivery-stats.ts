import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeliveryStatsQuery } from '../generated/graphql.js';
import { DELIVERY_CHANGED, DELIVERY_STATS } from '../queries';
import { useSession } from '../session-context';

const HOUR = 3_600_000;
/** Reloaded this often, also when nothing was announced. */
const REFRESH_MS = 10_000;
/** Live updates reload the stats at most once per this interval. */
const LIVE_THROTTLE_MS = 1_000;

export type DeliveryStatsData = DeliveryStatsQuery['deliveryStats'];

/**
 * The last hour of `deliveryStats` per minute, computed by the server: loaded
 * every 10 s, and within a second after a delivery changes (throttled, so a
 * burst of updates costs one query).
 */
export function useDeliveryStats() {
  const { gql, live } = useSession();
  const [stats, setStats] = useState<DeliveryStatsData | null>(null);
  const [failed, setFailed] = useState(false);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const load = useRef<() => void>(() => {});

  useEffect(() => {
    let cancelled = false;
    let inFlight = false;
    load.current = () => {
      if (inFlight) return;
      inFlight = true;
      gql<DeliveryStatsQuery>(DELIVERY_STATS, { since: new Date(Date.now() - HOUR).toISOString(), bucket: 60 })
        .then(
          ({ deliveryStats }) => {
            if (cancelled) return;
            setStats(deliveryStats);
            setFailed(false);
          },
          () => !cancelled && setFailed(true),
        )
        .finally(() => (inFlight = false));
    };
    load.current();
    const timer = setInterval(() => load.current(), REFRESH_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
      if (pending.current) clearTimeout(pending.current);
    };
  }, [gql]);

  const soon = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      load.current();
    }, LIVE_THROTTLE_MS);
  };
  useEffect(() => live.subscribe(DELIVERY_CHANGED, {}, soon), [live]);
  useEffect(() => live.onResync(soon), [live]);

  return { stats, failed };
}
