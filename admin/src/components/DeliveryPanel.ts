import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, fieldErrors } from '../api';
import type { DeliveryQuery, DeliveryRetryMutation, DeliveryUpdatedSubscription } from '../generated/graphql.js';
import { DELIVERY, DELIVERY_RETRY, DELIVERY_UPDATED, type DeliveryDetail } from '../queries';
import { useSession } from '../session-context';
import { fullTime, json } from '../format';
import { ErrorBox, Loading, StatusBadge, WaitingForKey } from './ui';

type Detail = DeliveryDetail;
const RETRYABLE = new Set(['FAILED', 'RETRYING', 'CANCELLED']);

/** Side panel: one delivery, every attempt, the payload, and Retry. Reloads on each live update of this delivery. */
export function DeliveryPanel({ id, onClose }: { id: string; onClose: () => void }) {
  const { gql, live } = useSession();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [retrying, setRetrying] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let cancelled = false;
    gql<DeliveryQuery>(DELIVERY, { id }).then(
      ({ delivery }) => {
        if (cancelled) return;
        if (!delivery) setError('This delivery does not exist (anymore).');
        else {
          setDetail(delivery);
          setError(null);
        }
      },
      (err: unknown) => !cancelled && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      cancelled = true;
    };
  }, [id, version]);

  const eventId = detail?.event.id;
  useEffect(() => {
    if (!eventId) return;
    return live.subscribe<DeliveryUpdatedSubscription>(DELIVERY_UPDATED, { filter: { eventId } }, ({ deliveryUpdated }) => {
      if (deliveryUpdated.id === id) setVersion((v) => v + 1);
    });
  }, [live, eventId, id]);
  useEffect(() => live.onResync(() => setVersion((v) => v + 1)), [live]);

  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const retry = async () => {
    setRetrying(true);
    setNotice(null);
    try {
      const { deliveryRetry } = await gql<DeliveryRetryMutation>(DELIVERY_RETRY, { id });
      const { byField, other } = fieldErrors(deliveryRetry.userErrors);
      const problems = [...Object.values(byField), ...other];
      if (problems.length) setNotice(problems.join(' '));
      else setNotice('Retry queued.');
      setVersion((v) => v + 1);
    } catch (err) {
      setNotice(err instanceof ApiError ? err.message : String(err));
    } finally {
      setRetrying(false);
    }
  };

  return html`<aside class="panel" aria-labelledby="delivery-panel-title" data-testid="delivery-panel">
    <div class="panel-head">
      <h2 id="delivery-panel-title" tabindex="-1" ref=${heading}>Delivery</h2>
      <button type="button" class="secondary" onClick=${onClose} aria-label="Close delivery details">Close</button>
    </div>
    ${error ? html`<${ErrorBox} onRetry=${() => setVersion((v) => v + 1)}>${error}<//>` : null}
    ${!detail && !error ? html`<${Loading} />` : null}
    ${detail
      ? html`<dl class="facts">
          <dt>Status</dt><dd><${StatusBadge} status=${detail.status} /> <${WaitingForKey} delivery=${detail} /></dd>
          <dt>Event</dt><dd><code>${detail.event.eventType}</code> <span class="muted mono">${detail.event.id}</span></dd>
          <dt>Subscription</dt><dd class="url">${detail.webhookSubscription.url}</dd>
          <dt>Attempts</dt><dd>${detail.attemptCount}</dd>
          <dt>Created</dt><dd>${fullTime(detail.createdAt)}</dd>
          ${detail.nextAttemptAt ? html`<dt>Next attempt</dt><dd>${fullTime(detail.nextAttemptAt)}</dd>` : null}
          <dt>Delivery id</dt><dd class="mono">${detail.id}</dd>
        </dl>
        ${RETRYABLE.has(detail.status)
          ? html`<button type="button" class="primary" onClick=${retry} disabled=${retrying}>${retrying ? 'Retrying…' : 'Retry now'}</button>`
          : null}
        ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
        <h3>Attempts</h3>
        ${detail.attempts.length === 0
          ? html`<p class="muted">No attempt yet.</p>`
          : html`<ol class="attempts" reversed>
              ${[...detail.attempts].sort((a, b) => b.attemptNumber - a.attemptNumber).map(
                (a, index) => html`<li class="attempt" data-attempt=${a.attemptNumber}>
                  <div class="attempt-head">
                    <strong>#${a.attemptNumber}</strong>
                    <span class=${'code ' + (a.responseStatus && a.responseStatus < 300 ? 'ok' : 'bad')}>${a.responseStatus ?? a.errorKind ?? 'no response'}</span>
                    <span>${a.durationMs} ms</span>
                    <span class="muted">${fullTime(a.startedAt)}</span>
                  </div>
                  ${a.error ? html`<p class="attempt-error">${a.errorKind ? html`<code>${a.errorKind}</code> ` : null}${a.error}</p>` : null}
                  ${a.responseBody ? html`<details open=${index === 0}><summary>Response body</summary><pre>${a.responseBody}</pre></details>` : null}
                </li>`,
              )}
            </ol>`}
        <h3>Payload</h3>
        <pre class="payload">${json(detail.event.payload)}</pre>`
      : null}
  </aside>`;
}
