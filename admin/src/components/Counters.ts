import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { DELIVERY_COUNTS, DELIVERY_STATUSES, DELIVERY_UPDATED } from '../queries';
import { useSession } from '../session-context';

const HOUR = 3_600_000;
const PAGE = 100;
const MAX_PAGES = 20;

interface Slim {
  id: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * Deliveries created in the last hour, by status, and the success rate of the
 * finished ones. Loaded once (newest first, until an hour back), then kept
 * current by `deliveryUpdated`; the window slides every 15 s.
 */
export function Counters() {
  const { gql, live } = useSession();
  const [rows, setRows] = useState<Map<string, Slim>>(() => new Map());
  const [truncated, setTruncated] = useState(false);
  const [now, setNow] = useState(Date.now());
  const [generation, setGeneration] = useState(0);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(timer);
  }, []);

  useEffect(
    () =>
      live.subscribe<{ deliveryUpdated: Slim }>(DELIVERY_UPDATED, { filter: null }, ({ deliveryUpdated: d }) =>
        setRows((current) => {
          const previous = current.get(d.id);
          if (previous && previous.updatedAt > d.updatedAt) return current;
          const copy = new Map(current);
          copy.set(d.id, { id: d.id, status: d.status, createdAt: d.createdAt, updatedAt: d.updatedAt });
          return copy;
        }),
      ),
    [live],
  );
  useEffect(() => live.onResync(() => setGeneration((g) => g + 1)), [live]);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const since = Date.now() - HOUR;
      const found: Slim[] = [];
      let after: string | null = null;
      let more = false;
      for (let page = 0; page < MAX_PAGES; page++) {
        const data: { deliveries: { nodes: Slim[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(DELIVERY_COUNTS, { first: PAGE, after, since: new Date(since).toISOString() });
        const { deliveries } = data;
        const recent = deliveries.nodes.filter((d: Slim) => new Date(d.createdAt).getTime() >= since);
        found.push(...recent);
        more = deliveries.pageInfo.hasNextPage && recent.length === deliveries.nodes.length;
        if (!more) break;
        after = deliveries.pageInfo.endCursor;
      }
      if (cancelled) return;
      setTruncated(more);
      setRows((current) => {
        const merged = new Map(found.map((d) => [d.id, d]));
        for (const [id, d] of current) if (!merged.has(id) || merged.get(id)!.updatedAt <= d.updatedAt) merged.set(id, d);
        return merged;
      });
      setFailed(false);
    })().catch(() => !cancelled && setFailed(true));
    return () => {
      cancelled = true;
    };
  }, [generation]);

  const counts = useMemo(() => {
    const result: Record<string, number> = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0]));
    let total = 0;
    for (const d of rows.values()) {
      if (new Date(d.createdAt).getTime() < now - HOUR) continue;
      result[d.status] = (result[d.status] ?? 0) + 1;
      total++;
    }
    return { byStatus: result, total };
  }, [rows, now]);

  const finished = counts.byStatus.SUCCEEDED! + counts.byStatus.FAILED!;
  const rate = finished ? Math.round((counts.byStatus.SUCCEEDED! / finished) * 1000) / 10 : null;
  const plus = truncated ? '+' : '';
  return html`<section class="counters" aria-label="Deliveries in the last hour" data-testid="counters">
    <div class="counter total"><span class="count" data-testid="count-total">${counts.total}${plus}</span><span class="label">last hour</span></div>
    ${DELIVERY_STATUSES.map(
      (status) => html`<div class=${`counter counter-${status.toLowerCase()}`}>
        <span class="count" data-testid=${`count-${status}`}>${counts.byStatus[status]}</span><span class="label">${status.toLowerCase()}</span>
      </div>`,
    )}
    <div class="counter rate"><span class="count" data-testid="success-rate">${rate === null ? '—' : `${rate}%`}</span><span class="label">success rate</span></div>
    ${failed ? html`<p class="hint">Counters could not be loaded; they resume with the next update.</p>` : null}
  </section>`;
}
