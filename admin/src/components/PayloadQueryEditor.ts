import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, fieldErrors } from '../api';
import { json, parseJsonField } from '../format';
import type { EventSchemaQuery, LastEventQuery, SubscriptionPreviewMutation } from '../generated/graphql.js';
import { EVENT_SCHEMA, LAST_EVENT, SUBSCRIPTION_PREVIEW } from '../queries';
import { useSession } from '../session-context';
import { ErrorBox, Field, useId } from './ui';

interface Props {
  value: string;
  onInput: (value: string) => void;
  /** The userError for ["input","payloadQuery"] of the last save or preview, whichever came last. */
  error?: string;
  /** A preview found the query valid (undefined) or not (its message). */
  onError: (message: string | undefined) => void;
  /** The form's filter as typed: the preview tries it with the query. */
  filter: string;
  /** The form's event types as typed: the preview's verdict follows them. */
  eventTypes: string[];
  /** The subscription being edited: the preview takes its status into account. */
  subscriptionId?: string;
}

type Preview = { eventId: string; matches: boolean; reason: string | null; body: string };

/** Empty means no payload query: deliveries carry the whole payload. */
export const payloadQueryInput = (text: string): string | null => (text.trim() ? text : null);

/**
 * The payload query of a subscription: the editor, the tenant's event schema
 * (SDL) beside it, and a dry run of the query and filter as typed on the last
 * event of a chosen type (webhookSubscriptionPreview; nothing is sent).
 */
export function PayloadQueryEditor({ value, onInput, error, onError, filter, eventTypes: patterns, subscriptionId }: Props) {
  const { gql } = useSession();
  const [schema, setSchema] = useState<{ sdl: string; eventTypes: string[] } | null>(null);
  const [schemaError, setSchemaError] = useState<string | null>(null);
  const [eventType, setEventType] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewErrors, setPreviewErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const id = useId('payload-query');

  useEffect(() => {
    let cancelled = false;
    gql<EventSchemaQuery>(EVENT_SCHEMA).then(
      (data) => {
        if (cancelled) return;
        const eventTypes = data.eventTypes.nodes.map((t) => t.name).sort();
        setSchema({ sdl: data.eventSchema.sdl, eventTypes });
        setEventType((current) => current || eventTypes[0] || '');
      },
      (err: unknown) => !cancelled && setSchemaError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const runPreview = async () => {
    setPreview(null);
    setPreviewErrors([]);
    const parsedFilter = parseJsonField(filter);
    if (!parsedFilter.ok) return setPreviewErrors([`Payload filter: ${parsedFilter.error}`]);
    setBusy(true);
    try {
      const last = (await gql<LastEventQuery>(LAST_EVENT, { eventType })).events.nodes[0];
      if (!last) return setPreviewErrors([`No ${eventType} event yet: publish one (Event types page) to preview against it.`]);
      const { webhookSubscriptionPreview: result } = await gql<SubscriptionPreviewMutation>(SUBSCRIPTION_PREVIEW, {
        // What the form holds takes the saved subscription's place; the id brings its status.
        input: { id: subscriptionId, eventType, payload: last.payload, eventTypes: patterns, payloadQuery: payloadQueryInput(value), filter: parsedFilter.value },
      });
      if (result.userErrors.length || result.body === null) {
        const { byField, other } = fieldErrors(result.userErrors);
        const { payloadQuery, ...rest } = byField;
        onError(payloadQuery);
        return setPreviewErrors([...Object.values(rest).map((message) => `Preview: ${message}`), ...other]);
      }
      onError(undefined);
      setPreview({ eventId: last.id, matches: result.matches, reason: result.reason ?? null, body: result.body });
    } catch (err) {
      setPreviewErrors([err instanceof ApiError ? err.message : String(err)]);
    } finally {
      setBusy(false);
    }
  };

  return html`<div class="payload-query">
    <div class="payload-query-editor">
      <${Field} label="Payload query (GraphQL)" name="payloadQuery" multiline monospace rows=${8} value=${value} onInput=${onInput}
        error=${error} placeholder="subscription { orderCreated { orderId total } }"
        hint="Optional. Shapes the data of the event types it names, against the event schema beside it; other event types are delivered whole." />
      <div class="preview-controls">
        <label for=${`${id}-type`}>Preview against the last event of</label>
        <select id=${`${id}-type`} value=${eventType} onChange=${(e: Event) => setEventType((e.currentTarget as HTMLSelectElement).value)}>
          ${(schema?.eventTypes ?? []).map((name) => html`<option value=${name}>${name}</option>`)}
        </select>
        <button type="button" class="secondary" onClick=${runPreview} disabled=${busy || !eventType}>${busy ? 'Previewing…' : 'Preview'}</button>
      </div>
      ${previewErrors.length ? html`<p class="field-error" role="alert" data-testid="preview-error">${previewErrors.join(' ')}</p>` : null}
      ${preview
        ? html`<div class="preview" data-testid="preview" aria-live="polite">
            <p data-testid="preview-matches" data-matches=${String(preview.matches)}>
              ${preview.matches ? 'Matches: this event would be delivered' : `No match: ${preview.reason ?? 'this event would not be delivered'}`} (event <code>${preview.eventId}</code>). Body:
            </p>
            <pre data-testid="preview-body">${prettyJson(preview.body)}</pre>
          </div>`
        : null}
    </div>
    <section class="payload-query-schema" aria-labelledby=${`${id}-schema`}>
      <h3 id=${`${id}-schema`}>Event schema</h3>
      ${schemaError ? html`<${ErrorBox}>${schemaError}<//>` : null}
      ${schema ? html`<pre class="sdl" tabindex="0" data-testid="event-schema-sdl">${schema.sdl}</pre>` : schemaError ? null : html`<p class="muted">Loading…</p>`}
    </section>
  </div>`;
}

function prettyJson(text: string): string {
  try {
    return json(JSON.parse(text));
  } catch {
    return text;
  }
}
