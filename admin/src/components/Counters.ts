import { html } from 'htm/preact';
import { DELIVERY_STATUSES } from '../queries';
import { formatMs } from './DeliveryChart';
import type { DeliveryStatsData } from './use-delivery-stats';

/** Deliveries created in the last hour by status, the success rate of the finished ones and the p95 latency (from deliveryStats). */
export function Counters({ stats, failed }: { stats: DeliveryStatsData | null; failed: boolean }) {
  const total = stats?.total;
  const finished = total ? total.succeeded + total.failed : 0;
  const rate = total && finished ? Math.round((total.succeeded / finished) * 1000) / 10 : null;
  return html`<section class="counters" aria-label="Deliveries in the last hour" data-testid="counters">
    <div class="counter total"><span class="count" data-testid="count-total">${total?.total ?? '—'}</span><span class="label">last hour</span></div>
    ${DELIVERY_STATUSES.map((status) => {
      const key = status.toLowerCase() as Lowercase<typeof status>;
      return html`<div class=${`counter counter-${key}`}>
        <span class="count" data-testid=${`count-${status}`}>${total ? total[key] : '—'}</span><span class="label">${key}</span>
      </div>`;
    })}
    <div class="counter rate"><span class="count" data-testid="success-rate">${rate === null ? '—' : `${rate}%`}</span><span class="label">success rate</span></div>
    <div class="counter latency"><span class="count" data-testid="latency-p95">${formatMs(total?.latencyP95Ms ?? null)}</span><span class="label">p95 latency</span></div>
    ${failed ? html`<p class="hint">Counters could not be loaded; they resume with the next refresh.</p>` : null}
  </section>`;
}
