import { html } from 'htm/preact';
import type { DeliveryStatsBucket } from '../queries';

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { top: 12, right: 52, bottom: 22, left: 36 };
/** Bottom to top: what went well first, the problems on top where they catch the eye. */
const STACK = ['succeeded', 'sending', 'pending', 'retrying', 'failed', 'cancelled'] as const;

export function formatMs(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** The smallest of 1, 2, 5 × 10ⁿ at or above `value`, so axis labels are round. */
function niceCeil(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

/**
 * Deliveries per bucket as stacked bars by status, with the p95 publish →
 * success latency as a line on its own (right-hand) scale. Plain SVG.
 */
export function DeliveryChart({ buckets, bucketSeconds }: { buckets: readonly DeliveryStatsBucket[]; bucketSeconds: number }) {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const maxCount = niceCeil(Math.max(0, ...buckets.map((b) => b.total)));
  const maxLatency = niceCeil(Math.max(0, ...buckets.map((b) => b.latencyP95Ms ?? 0)));
  const step = plotW / Math.max(buckets.length, 1);
  const barW = Math.max(step - 2, 1);
  const y = (count: number) => PAD.top + plotH - (count / maxCount) * plotH;
  const yLatency = (ms: number) => PAD.top + plotH - (ms / maxLatency) * plotH;

  const bars = buckets.flatMap((bucket, i) => {
    let base = 0;
    return STACK.filter((status) => bucket[status] > 0).map((status) => {
      const top = base + bucket[status];
      const rect = html`<rect class=${`bar bar-${status}`} data-status=${status.toUpperCase()} data-count=${bucket[status]}
        x=${PAD.left + i * step + 1} y=${y(top)} width=${barW} height=${y(base) - y(top)}>
        <title>${clock(bucket.start)}: ${bucket[status]} ${status}</title>
      </rect>`;
      base = top;
      return rect;
    });
  });
  // One path, broken where a bucket has no successful delivery.
  let line = '';
  let drawing = false;
  buckets.forEach((bucket, i) => {
    if (bucket.latencyP95Ms === null) return void (drawing = false);
    line += `${drawing ? 'L' : 'M'}${(PAD.left + i * step + step / 2).toFixed(1)},${yLatency(bucket.latencyP95Ms).toFixed(1)}`;
    drawing = true;
  });
  const points = buckets.flatMap((bucket, i) =>
    bucket.latencyP95Ms === null
      ? []
      : [html`<circle class="latency-point" cx=${PAD.left + i * step + step / 2} cy=${yLatency(bucket.latencyP95Ms)} r="2.5"><title>${clock(bucket.start)}: p95 ${formatMs(bucket.latencyP95Ms)}</title></circle>`],
  );
  const ticks = buckets.map((bucket, i) => ({ bucket, i })).filter(({ i }) => i % Math.max(1, Math.round(900 / bucketSeconds)) === 0);
  const total = buckets.reduce((sum, b) => sum + b.total, 0);

  return html`<figure class="chart" data-testid="delivery-chart">
    <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${`Deliveries per minute in the last hour (${total} in all) by outcome, with p95 latency`}>
      <line class="axis" x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${PAD.top + plotH} y2=${PAD.top + plotH} />
      <line class="grid" x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${PAD.top} y2=${PAD.top} />
      <text class="tick" x=${PAD.left - 4} y=${PAD.top + 4} text-anchor="end">${maxCount}</text>
      <text class="tick" x=${PAD.left - 4} y=${PAD.top + plotH} text-anchor="end">0</text>
      <text class="tick latency-tick" x=${WIDTH - PAD.right + 4} y=${PAD.top + 4}>${formatMs(maxLatency)}</text>
      ${ticks.map(({ bucket, i }) => html`<text class="tick" x=${PAD.left + i * step} y=${HEIGHT - 6}>${clock(bucket.start)}</text>`)}
      <g data-testid="chart-bars">${bars}</g>
      ${line ? html`<path class="latency-line" data-testid="latency-line" d=${line} />` : null}
      ${points}
    </svg>
    <figcaption class="legend">
      ${STACK.map((status) => html`<span class=${`key key-${status}`}>${status}</span>`)}
      <span class="key key-latency">p95 latency</span>
    </figcaption>
  </figure>`;
}
