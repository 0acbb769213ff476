import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import type { DeliveriesQuery, DeliveryUpdatedSubscription } from '../generated/graphql.js';
import { DELIVERIES, DELIVERY_UPDATED, type DeliveryRow } from '../queries';
import { useSession } from '../session-context';

export interface DeliveryFilterState {
  status: string;
  webhookSubscriptionId: string;
}

/**
 * Recent deliveries for a filter, kept current by `deliveryUpdated`: rows
 * loaded over HTTP are overlaid with every live update received since the
 * subscription started (newest `updatedAt` wins), so an update that races the
 * initial load is never lost. After a reconnection everything is loaded again.
 */
export function useLiveDeliveries(filter: DeliveryFilterState, pageSize = 50) {
  const { gql, live } = useSession();
  const [loaded, setLoaded] = useState<DeliveryRow[] | null>(null);
  const [overlay, setOverlay] = useState<Map<string, DeliveryRow>>(() => new Map());
  const [error, setError] = useState<string | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const filterKey = `${filter.status}|${filter.webhookSubscriptionId}`;
  const liveFilter = useMemo(() => (filter.webhookSubscriptionId ? { webhookSubscriptionId: filter.webhookSubscriptionId } : null), [filter.webhookSubscriptionId]);
  const serverFilter = useMemo(
    () => ({ ...(liveFilter ?? {}), ...(filter.status ? { statuses: [filter.status] } : {}) }),
    [liveFilter, filter.status],
  );

  // Live first, then the load: nothing falls between the two.
  useEffect(() => {
    setOverlay(new Map());
    // No status filter on the live side: a row leaving the filtered status must update (and leave) too.
    return live.subscribe<DeliveryUpdatedSubscription>(DELIVERY_UPDATED, { filter: liveFilter }, ({ deliveryUpdated }) => {
      setOverlay((current) => {
        const previous = current.get(deliveryUpdated.id);
        if (previous && previous.updatedAt > deliveryUpdated.updatedAt) return current;
        const copy = new Map(current);
        copy.set(deliveryUpdated.id, deliveryUpdated);
        return copy;
      });
    }, (message) => setError(`Live updates failed: ${message}`));
  }, [live, liveFilter]);

  useEffect(() => live.onResync(() => setGeneration((g) => g + 1)), [live]);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    gql<DeliveriesQuery>(DELIVERIES, { first: pageSize, filter: serverFilter }).then(
      ({ deliveries }) => {
        if (cancelled) return;
        setLoaded(deliveries.nodes);
        setNext(deliveries.pageInfo.hasNextPage ? deliveries.pageInfo.endCursor : null);
      },
      (err: unknown) => !cancelled && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      cancelled = true;
    };
  }, [filterKey, generation]);

  const loadMore = async () => {
    if (!next || !loaded) return;
    try {
      const { deliveries } = await gql<DeliveriesQuery>(DELIVERIES, {
        first: pageSize,
        after: next,
        filter: serverFilter,
      });
      setLoaded([...loaded, ...deliveries.nodes]);
      setNext(deliveries.pageInfo.hasNextPage ? deliveries.pageInfo.endCursor : null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  const oldestLoaded = useRef<string | null>(null);
  const rows = useMemo(() => {
    if (!loaded) return null;
    const byId = new Map(loaded.map((row) => [row.id, row]));
    oldestLoaded.current = loaded.length ? loaded[loaded.length - 1]!.id : null;
    for (const [id, row] of overlay) {
      const base = byId.get(id);
      // New rows only when newer than the loaded page's tail (or the page is complete).
      if (!base && next && oldestLoaded.current && id < oldestLoaded.current) continue;
      if (!base || base.updatedAt <= row.updatedAt) byId.set(id, row);
    }
    return [...byId.values()]
      .filter((row) => !filter.status || row.status === filter.status)
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)); // UUIDv7: id order = creation order
  }, [loaded, overlay, filter.status, next]);

  return { rows, error, hasMore: next !== null, loadMore, reload: () => setGeneration((g) => g + 1) };
}
