import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { SubscriptionOptionsQuery } from '../generated/graphql.js';
import { DELIVERY_STATUSES, SUBSCRIPTION_OPTIONS } from '../queries';
import { onLinkClick } from '../router';
import { useSession } from '../session-context';
import { fullTime, timeAgo } from '../format';
import { Counters } from './Counters';
import { DeliveryChart } from './DeliveryChart';
import { useDeliveryStats } from './use-delivery-stats';
import { DeliveryPanel } from './DeliveryPanel';
import { Empty, ErrorBox, Loading, StatusBadge, useId, WaitingForKey } from './ui';
import { useLiveDeliveries, type DeliveryFilterState } from './use-deliveries';

/** Home page: live table of recent deliveries, filters, counters, detail panel. */
export function Deliveries() {
  const { gql } = useSession();
  // Filters live in the address (?status=FAILED&subscription=<id>) so they can be linked and survive a reload.
  const [filter, setFilterState] = useState<DeliveryFilterState>(() => {
    const params = new URLSearchParams(location.search);
    const status = params.get('status') ?? '';
    return { status: (DELIVERY_STATUSES as readonly string[]).includes(status) ? status : '', webhookSubscriptionId: params.get('subscription') ?? '' };
  });
  const setFilter = (next: DeliveryFilterState) => {
    setFilterState(next);
    const params = new URLSearchParams();
    if (next.status) params.set('status', next.status);
    if (next.webhookSubscriptionId) params.set('subscription', next.webhookSubscriptionId);
    const search = params.toString();
    history.replaceState(history.state, '', location.pathname + (search ? `?${search}` : ''));
  };
  const [selected, setSelected] = useState<string | null>(null);
  const [subscriptions, setSubscriptions] = useState<{ id: string; url: string }[]>([]);
  const [, tick] = useState(0);
  const { rows, error, hasMore, loadMore, reload } = useLiveDeliveries(filter);
  const { stats, failed: statsFailed } = useDeliveryStats();
  const statusId = useId('status');
  const subId = useId('sub');

  useEffect(() => {
    gql<SubscriptionOptionsQuery>(SUBSCRIPTION_OPTIONS).then(
      (data) => setSubscriptions(data.webhookSubscriptions.nodes),
      () => setSubscriptions([]),
    );
  }, []);
  // Relative times ("2 minutes ago") stay true.
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 20_000);
    return () => clearInterval(timer);
  }, []);

  return html`<div class=${'page deliveries' + (selected ? ' with-panel' : '')}>
    <div class="page-main">
      <div class="page-head">
        <h1>Deliveries</h1>
        <form class="filters" onSubmit=${(e: Event) => e.preventDefault()} aria-label="Filter deliveries">
          <div class="field inline">
            <label for=${statusId}>Status</label>
            <select id=${statusId} value=${filter.status} onChange=${(e: Event) => setFilter({ ...filter, status: (e.currentTarget as HTMLSelectElement).value })}>
              <option value="">All statuses</option>
              ${DELIVERY_STATUSES.map((s) => html`<option value=${s}>${s.toLowerCase()}</option>`)}
            </select>
          </div>
          <div class="field inline">
            <label for=${subId}>Subscription</label>
            <select id=${subId} value=${filter.webhookSubscriptionId}
              onChange=${(e: Event) => setFilter({ ...filter, webhookSubscriptionId: (e.currentTarget as HTMLSelectElement).value })}>
              <option value="">All subscriptions</option>
              ${subscriptions.map((s) => html`<option value=${s.id}>${s.url}</option>`)}
              ${filter.webhookSubscriptionId && !subscriptions.some((s) => s.id === filter.webhookSubscriptionId)
                ? html`<option value=${filter.webhookSubscriptionId}>Subscription ${filter.webhookSubscriptionId}</option>`
                : null}
            </select>
          </div>
        </form>
      </div>
      <${Counters} stats=${stats} failed=${statsFailed} />
      ${stats ? html`<${DeliveryChart} buckets=${stats.buckets} bucketSeconds=${stats.bucketSeconds} />` : null}
      ${error ? html`<${ErrorBox} onRetry=${reload}>${error}<//>` : null}
      ${rows === null
        ? error
          ? null
          : html`<${Loading} label="Loading deliveries…" />`
        : rows.length === 0
          ? html`<${Empty} title=${filter.status || filter.webhookSubscriptionId ? 'No deliveries match these filters.' : 'No deliveries yet.'}>
              ${filter.status || filter.webhookSubscriptionId
                ? html`<button type="button" class="secondary" onClick=${() => setFilter({ status: '', webhookSubscriptionId: '' })}>Clear filters</button>`
                : html`<p>Deliveries appear here live as events are published. Create a <a href="/admin/subscriptions" onClick=${onLinkClick}>subscription</a>, then publish an event (or send a test event).</p>`}
            <//>`
          : html`<div class="table-wrap">
              <table class="data deliveries-table" aria-label="Recent deliveries">
                <thead>
                  <tr>
                    <th scope="col">Event type</th>
                    <th scope="col">Subscription</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">Attempts</th>
                    <th scope="col" class="opt">Last response</th>
                    <th scope="col">Time</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (d) => html`<tr key=${d.id} data-delivery-id=${d.id} data-status=${d.status} class=${selected === d.id ? 'selected' : ''}
                      onClick=${() => setSelected(d.id)}>
                      <td><button type="button" class="link" aria-label=${`Open delivery of ${d.event.eventType} to ${d.webhookSubscription.url}`}
                        onClick=${(e: Event) => (e.stopPropagation(), setSelected(d.id))}>${d.event.eventType}</button></td>
                      <td class="url" title=${d.webhookSubscription.url}>${d.webhookSubscription.url}</td>
                      <td><${StatusBadge} status=${d.status} /> <${WaitingForKey} delivery=${d} /></td>
                      <td class="num">${d.attemptCount}</td>
                      <td class="opt" title=${d.lastError ?? ''}>${d.lastResponseStatus ?? (d.lastError ? 'error' : '—')}</td>
                      <td title=${fullTime(d.createdAt)}>${timeAgo(d.createdAt)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
              ${hasMore ? html`<button type="button" class="secondary more" onClick=${loadMore}>Load older deliveries</button>` : null}
            </div>`}
    </div>
    ${selected ? html`<${DeliveryPanel} key=${selected} id=${selected} onClose=${() => setSelected(null)} />` : null}
  </div>`;
}
