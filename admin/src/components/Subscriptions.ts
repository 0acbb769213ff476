import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, fieldErrors, type UserError } from '../api';
import { fullTime, timeAgo } from '../format';
import type { DeliverySettledSubscription, SubscriptionFailuresQuery, SubscriptionQuery, SubscriptionsQuery, SubscriptionUpdatedSubscription } from '../generated/graphql.js';
import {
  DELIVERY_SETTLED,
  SUBSCRIPTION_DELETE,
  SUBSCRIPTION_ONE,
  SUBSCRIPTION_FAILURES,
  SUBSCRIPTION_ROTATE,
  SUBSCRIPTION_STATUS,
  SUBSCRIPTION_TEST,
  SUBSCRIPTION_UPDATED,
  SUBSCRIPTIONS,
  type SubscriptionRow,
} from '../queries';
import { onLinkClick } from '../router';
import { useSession } from '../session-context';
import { SubscriptionForm } from './SubscriptionForm';
import { Empty, ErrorBox, Loading, Notice, SecretReveal, StatusBadge } from './ui';

type Editing = { kind: 'none' } | { kind: 'create' } | { kind: 'edit'; row: SubscriptionRow };

/** Subscriptions: list with health, create (secret shown once), edit, enable/disable, rotate, test, delete. */
export function Subscriptions() {
  const { gql, live } = useSession();
  const [rows, setRows] = useState<SubscriptionRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing>({ kind: 'none' });
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let cancelled = false;
    gql<SubscriptionsQuery>(SUBSCRIPTIONS, { first: 100 }).then(
      (data) => !cancelled && (setRows(data.webhookSubscriptions.nodes), setError(null)),
      (err: unknown) => !cancelled && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      cancelled = true;
    };
  }, [generation]);
  useEffect(() => live.onResync(() => setGeneration((g) => g + 1)), [live]);
  // Status and health changes made elsewhere (auto-disable, another admin) arrive live.
  useEffect(
    () =>
      live.subscribe<SubscriptionUpdatedSubscription>(SUBSCRIPTION_UPDATED, {}, ({ webhookSubscriptionUpdated: s }) =>
        setRows((current) => current && (current.some((r) => r.id === s.id) ? current.map((r) => (r.id === s.id ? s : r)) : [s, ...current])),
      ),
    [live],
  );

  // Health follows deliveries live: refetch a subscription (at most every 500 ms) when one of its deliveries settles.
  const [healthVersion, setHealthVersion] = useState<Record<string, number>>({});
  const pending = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const timers = pending.current;
    const stop = live.subscribe<DeliverySettledSubscription>(DELIVERY_SETTLED, {}, ({ deliveryUpdated }) => {
      const id = deliveryUpdated.webhookSubscription.id;
      if (timers.has(id)) return;
      timers.set(
        id,
        setTimeout(async () => {
          timers.delete(id);
          const data = await gql<SubscriptionQuery>(SUBSCRIPTION_ONE, { id }).catch(() => null);
          if (data?.webhookSubscription) upsert(data.webhookSubscription);
          setHealthVersion((versions) => ({ ...versions, [id]: (versions[id] ?? 0) + 1 }));
        }, 500),
      );
    });
    return () => {
      stop();
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    };
  }, [live]);

  const upsert = (row: SubscriptionRow) =>
    setRows((current) => (current ?? []).some((r) => r.id === row.id) ? current!.map((r) => (r.id === row.id ? row : r)) : [row, ...(current ?? [])]);

  const saved = (row: SubscriptionRow, newSecret: string | null, warnings: string[]) => {
    upsert(row);
    setEditing({ kind: 'none' });
    setNotice(warnings.length ? `Saved. Note: ${warnings.join(' ')}` : 'Saved.');
    if (newSecret) setSecret({ title: `Signing secret of ${row.url}`, value: newSecret });
  };

  /** Runs a row action; userErrors and failures become the page notice. */
  const act = async (label: string, run: () => Promise<{ userErrors: UserError[] } & Record<string, unknown>>, done?: (result: any) => void) => {
    setNotice(null);
    try {
      const result = await run();
      const { byField, other } = fieldErrors(result.userErrors);
      const problems = [...Object.values(byField), ...other];
      if (problems.length) setNotice(`${label} failed: ${problems.join(' ')}`);
      else done?.(result);
    } catch (err) {
      setNotice(`${label} failed: ${err instanceof ApiError ? err.message : String(err)}`);
    }
  };

  const setStatus = (row: SubscriptionRow, status: 'ENABLED' | 'DISABLED') =>
    act(status === 'ENABLED' ? 'Enabling' : 'Disabling', async () => (await gql(SUBSCRIPTION_STATUS, { id: row.id, status })).webhookSubscriptionUpdate, (r) => {
      upsert(r.webhookSubscription);
      setNotice(`${row.url} is ${status === 'ENABLED' ? 'enabled' : 'disabled'}.`);
    });
  const rotate = (row: SubscriptionRow) => {
    if (!confirm(`Rotate the signing secret of ${row.url}? The old secret stays valid for 24 hours.`)) return;
    void act('Rotating the secret', async () => (await gql(SUBSCRIPTION_ROTATE, { id: row.id })).webhookSubscriptionRotateSecret, (r) =>
      setSecret({ title: `New signing secret of ${row.url}`, value: r.secret }),
    );
  };
  const sendTest = (row: SubscriptionRow) =>
    act('Sending a test event', async () => (await gql(SUBSCRIPTION_TEST, { id: row.id })).webhookSubscriptionTest, () =>
      setNotice(`Test event sent to ${row.url}. Watch it on the Deliveries page.`),
    );
  const remove = (row: SubscriptionRow) => {
    if (!confirm(`Delete the subscription to ${row.url}? Its deliveries are deleted too.`)) return;
    void act('Deleting', async () => (await gql(SUBSCRIPTION_DELETE, { id: row.id })).webhookSubscriptionDelete, () => {
      setRows((current) => (current ?? []).filter((r) => r.id !== row.id));
      setNotice(`Deleted the subscription to ${row.url}.`);
    });
  };

  return html`<div class="page subscriptions">
    <div class="page-head">
      <h1>Subscriptions</h1>
      ${editing.kind === 'none' ? html`<button type="button" class="primary" onClick=${() => (setSecret(null), setEditing({ kind: 'create' }))}>New subscription</button>` : null}
    </div>
    ${secret ? html`<${SecretReveal} title=${secret.title} secret=${secret.value} onDone=${() => setSecret(null)} />` : null}
    ${notice ? html`<${Notice}>${notice}<//>` : null}
    ${editing.kind !== 'none'
      ? html`<${SubscriptionForm} key=${editing.kind === 'edit' ? editing.row.id : 'new'} existing=${editing.kind === 'edit' ? editing.row : undefined}
          onSaved=${saved} onCancel=${() => setEditing({ kind: 'none' })} />`
      : null}
    ${error ? html`<${ErrorBox} onRetry=${() => setGeneration((g) => g + 1)}>${error}<//>` : null}
    ${rows === null
      ? error
        ? null
        : html`<${Loading} label="Loading subscriptions…" />`
      : rows.length === 0
        ? html`<${Empty} title="No subscriptions yet.">
            <p>A subscription is an endpoint that receives the events it asks for, signed with its own secret.</p>
            ${editing.kind === 'none' ? html`<button type="button" class="primary" onClick=${() => setEditing({ kind: 'create' })}>Create the first one</button>` : null}
          <//>`
        : html`<ul class="cards" aria-label="Webhook subscriptions">
            ${rows.map(
              (row) => html`<li class="card sub-card" key=${row.id} data-subscription-id=${row.id}>
                <div class="sub-head">
                  <h2 class="url" title=${row.url}>${row.url}</h2>
                  <${StatusBadge} status=${row.status} />
                  ${row.circuit.state !== 'CLOSED' ? html`<${CircuitBadge} state=${row.circuit.state} />` : null}
                </div>
                ${row.description ? html`<p>${row.description}</p>` : null}
                <p class="muted">Events: ${row.eventTypes.map((t) => html`<code>${t}</code> `)}</p>
                <${Health} row=${row} version=${healthVersion[row.id] ?? 0} />
                <div class="actions">
                  <button type="button" class="secondary" onClick=${() => (setSecret(null), setEditing({ kind: 'edit', row }))}>Edit</button>
                  ${row.status === 'ENABLED'
                    ? html`<button type="button" class="secondary" onClick=${() => setStatus(row, 'DISABLED')}>Disable</button>`
                    : html`<button type="button" class="secondary" onClick=${() => setStatus(row, 'ENABLED')}>Enable</button>`}
                  <button type="button" class="secondary" onClick=${() => rotate(row)}>Rotate secret</button>
                  <button type="button" class="secondary" onClick=${() => sendTest(row)} aria-label=${`Send a test event to ${row.url}`}>Send test event</button>
                  <button type="button" class="danger" onClick=${() => remove(row)}>Delete</button>
                </div>
              </li>`,
            )}
          </ul>`}
  </div>`;
}

/** An open circuit in the card's head: its deliveries are waiting. */
function CircuitBadge({ state }: { state: string }) {
  return html`<span class=${`badge badge-circuit-${state.toLowerCase()}`} data-circuit=${state}
    title="The receiver kept failing: deliveries wait while single probes test it">${state === 'OPEN' ? 'circuit open' : 'probing'}</span>`;
}

/** The circuit breaker in words: closed, open since when with the next probe, or a probe in flight (exact times in the title). */
function circuitText(circuit: SubscriptionRow['circuit']): string {
  if (circuit.state === 'CLOSED') return 'closed';
  const since = `open since ${timeAgo(circuit.openedAt)}`;
  if (circuit.state === 'HALF_OPEN') return `${since}; a probe is being sent`;
  return `${since}; deliveries wait, next probe ${timeAgo(circuit.nextProbeAt)}`;
}

/** Last success, current failure run, recent failed deliveries, why it is disabled. */
function Health({ row, version }: { row: SubscriptionRow; version: number }) {
  const { gql } = useSession();
  const [failures, setFailures] = useState<{ count: number; more: boolean } | null>(null);
  useEffect(() => {
    gql<SubscriptionFailuresQuery>(SUBSCRIPTION_FAILURES, {
      filter: { webhookSubscriptionId: row.id, statuses: ['FAILED', 'RETRYING'] },
    }).then(
      (data) => setFailures({ count: data.deliveries.nodes.length, more: data.deliveries.pageInfo.hasNextPage }),
      () => setFailures(null),
    );
  }, [row.id, row.status, row.lastSuccessAt, row.failingSince, version]);
  return html`<dl class="health">
    <dt>Last success</dt><dd title=${fullTime(row.lastSuccessAt)}>${row.lastSuccessAt ? timeAgo(row.lastSuccessAt) : 'never'}</dd>
    <dt>Failing</dt><dd title=${fullTime(row.failingSince)}>${row.failingSince ? `since ${timeAgo(row.failingSince)}` : 'no'}</dd>
    <dt>Failed / retrying</dt><dd>${failures === null ? '…' : failures.count === 0 ? 'none' : html`<a href=${`/admin/?status=FAILED&subscription=${row.id}`} onClick=${onLinkClick}
          aria-label=${`${failures.count}${failures.more ? ' or more' : ''} failed or retrying deliveries: show failed ones`}>${failures.count}${failures.more ? '+' : ''}</a>`}</dd>
    <dt>Circuit</dt><dd data-circuit=${row.circuit.state}
      title=${row.circuit.state === 'CLOSED' ? '' : `opened ${fullTime(row.circuit.openedAt)}${row.circuit.nextProbeAt ? `, next probe ${fullTime(row.circuit.nextProbeAt)}` : ''}`}>${circuitText(row.circuit)}</dd>
    ${row.disabledReason ? html`<dt>Disabled because</dt><dd>${row.disabledReason}</dd>` : null}
  </dl>`;
}
