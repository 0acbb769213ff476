import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, fieldErrors } from '../api';
import { json, parseJsonField } from '../format';
import type { SubscriptionCreateMutation, SubscriptionUpdateMutation } from '../generated/graphql.js';
import { SUBSCRIPTION_CREATE, SUBSCRIPTION_UPDATE, type SubscriptionRow } from '../queries';
import { useSession } from '../session-context';
import { PayloadQueryEditor, payloadQueryInput } from './PayloadQueryEditor';
import { ErrorBox, Field, useId } from './ui';

/** The form's event types field as the api takes it: names or patterns, separated by commas or spaces. */
const patternsOf = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** The form's one control for `ordered` and `orderingKey`, which a subscription never has both of. */
type DeliveryOrder = 'none' | 'key' | 'subscription';

interface Props {
  /** Edit this subscription; create a new one when absent. */
  existing?: SubscriptionRow;
  onSaved: (row: SubscriptionRow, secret: string | null, warnings: string[]) => void;
  onCancel: () => void;
}

/** Create or edit a subscription; the server's userErrors appear under the field they name. */
export function SubscriptionForm({ existing, onSaved, onCancel }: Props) {
  const { gql } = useSession();
  const [url, setUrl] = useState(existing?.url ?? '');
  const [eventTypes, setEventTypes] = useState(existing?.eventTypes.join(', ') ?? '*');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [filter, setFilter] = useState(json(existing?.filter));
  const [payloadQuery, setPayloadQuery] = useState(existing?.payloadQuery ?? '');
  const [retrySchedule, setRetrySchedule] = useState(existing?.retrySchedule?.join(', ') ?? '');
  const [order, setOrder] = useState<DeliveryOrder>(existing?.ordered ? 'subscription' : existing?.orderingKey ? 'key' : 'none');
  const [orderingKey, setOrderingKey] = useState(existing?.orderingKey ?? '');
  const [headers, setHeaders] = useState(existing?.headers && Object.keys(existing.headers).length ? json(existing.headers) : '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const titleId = useId('sub-form');
  const orderId = useId('order');

  const submit = async (event: Event) => {
    event.preventDefault();
    const local: Record<string, string> = {};
    const parsedFilter = parseJsonField(filter);
    const parsedHeaders = parseJsonField(headers);
    if (!parsedFilter.ok) local.filter = parsedFilter.error;
    if (!parsedHeaders.ok) local.headers = parsedHeaders.error;
    setErrors(local);
    setGeneral([]);
    if (Object.keys(local).length) return;
    const input: Record<string, unknown> = {
      url: url.trim(),
      eventTypes: patternsOf(eventTypes),
      description: description.trim() || null,
      filter: parsedFilter.ok ? parsedFilter.value : null,
      payloadQuery: payloadQueryInput(payloadQuery),
      // Blank: the server's schedule.
      retrySchedule: retrySchedule.trim() ? retrySchedule.split(',').map((entry) => entry.trim()) : null,
      // One choice in the form, so the two fields can never be sent together.
      ordered: order === 'subscription',
      orderingKey: order === 'key' ? orderingKey.trim() || null : null,
      headers: parsedHeaders.ok ? (parsedHeaders.value ?? (existing ? null : undefined)) : null,
    };
    setBusy(true);
    try {
      type Result = SubscriptionCreateMutation['webhookSubscriptionCreate'] | (SubscriptionUpdateMutation['webhookSubscriptionUpdate'] & { secret?: undefined });
      const result: Result = existing
        ? (await gql<SubscriptionUpdateMutation>(SUBSCRIPTION_UPDATE, { input: { id: existing.id, ...input } })).webhookSubscriptionUpdate
        : (await gql<SubscriptionCreateMutation>(SUBSCRIPTION_CREATE, { input })).webhookSubscriptionCreate;
      if (result.userErrors.length || !result.webhookSubscription) {
        const { byField, other } = fieldErrors(result.userErrors);
        setErrors(byField);
        setGeneral(other.length || Object.keys(byField).length ? other : ['The server did not save the subscription.']);
        return;
      }
      onSaved(result.webhookSubscription, result.secret ?? null, (result.warnings ?? []).map((w) => w.message));
    } catch (error) {
      setGeneral([error instanceof ApiError ? error.message : String(error)]);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="card form" onSubmit=${submit} aria-labelledby=${titleId} novalidate>
    <h2 id=${titleId}>${existing ? 'Edit subscription' : 'New subscription'}</h2>
    ${general.length ? html`<${ErrorBox}>${general.join(' ')}<//>` : null}
    <${Field} label="Endpoint URL" name="url" type="url" required value=${url} onInput=${setUrl} error=${errors.url}
      placeholder="https://example.com/webhooks" hint="Where deliveries are POSTed. Private and loopback addresses are refused unless allowed in config." />
    <${Field} label="Event types" name="eventTypes" required value=${eventTypes} onInput=${setEventTypes} error=${errors.eventTypes}
      hint="Names or patterns, separated by commas: order.created, order.*, *" />
    <${Field} label="Description" name="description" value=${description} onInput=${setDescription} error=${errors.description} />
    <${Field} label="Payload filter (JSON)" name="filter" multiline monospace rows=${3} value=${filter} onInput=${setFilter} error=${errors.filter}
      hint='Optional. Only matching events are delivered; the payload is under data, e.g. {"data.amount": {"$gte": 100}}' />
    <${PayloadQueryEditor} value=${payloadQuery} onInput=${setPayloadQuery} error=${errors.payloadQuery}
      onError=${(message: string | undefined) => setErrors(({ payloadQuery: _, ...rest }) => (message ? { ...rest, payloadQuery: message } : rest))} filter=${filter} eventTypes=${patternsOf(eventTypes)} subscriptionId=${existing?.id} />
    <${Field} label="Retry schedule" name="retrySchedule" monospace value=${retrySchedule} onInput=${setRetrySchedule} error=${errors.retrySchedule}
      placeholder="server default" hint="Optional. Delay before each attempt, separated by commas, e.g. 0, 30s, 5m, 1h (four attempts, each ±20 %). Blank: the server's HOOKGRAPH_RETRY_SCHEDULE." />
    <div class="field">
      <label for=${orderId}>Delivery order</label>
      <select id=${orderId} name="order" value=${order} onChange=${(e: Event) => setOrder((e.currentTarget as HTMLSelectElement).value as DeliveryOrder)}>
        <option value="none">Any order (in parallel)</option>
        <option value="key">In order per key value</option>
        <option value="subscription">Whole subscription in order, one at a time</option>
      </select>
    </div>
    ${order === 'key'
      ? html`<${Field} label="Ordering key" name="orderingKey" required monospace value=${orderingKey} onInput=${setOrderingKey} error=${errors.orderingKey}
          placeholder="data.orderId"
          hint="Dotted path into the delivered body (the shaped one with a payload query). Deliveries with the same value go one at a time in publish order; a retry holds back only that value. Events without a value there are not ordered." />`
      : errors.orderingKey
        ? html`<p class="field-error" role="alert">${errors.orderingKey}</p>`
        : null}
    <${Field} label="Custom headers (JSON)" name="headers" multiline monospace rows=${3} value=${headers} onInput=${setHeaders} error=${errors.headers}
      hint='Optional. Sent with every delivery, e.g. {"x-team": "billing"}. Values are stored encrypted and shown as "********"; leave "********" to keep a value.' />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : existing ? 'Save changes' : 'Create subscription'}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}
