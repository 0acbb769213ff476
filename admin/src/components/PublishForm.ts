import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, fieldErrors } from '../api';
import { parseJsonField } from '../format';
import type { EventPublishMutation } from '../generated/graphql.js';
import { EVENT_PUBLISH, type EventTypeRow } from '../queries';
import { onLinkClick } from '../router';
import { useSession } from '../session-context';
import { ErrorBox, Field, useId } from './ui';

/** Publishes one event through eventPublish, as a producer would; schema failures show under the payload. */
export function PublishForm({ eventTypes }: { eventTypes: EventTypeRow[] }) {
  const { gql } = useSession();
  const [eventType, setEventType] = useState(eventTypes[0]?.name ?? '');
  const [payload, setPayload] = useState('{\n  "test": true\n}');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [published, setPublished] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId('publish');

  const submit = async (event: Event) => {
    event.preventDefault();
    setPublished(null);
    setGeneral([]);
    const parsed = parseJsonField(payload);
    if (!parsed.ok || parsed.value === null) {
      setErrors({ payload: parsed.ok ? 'A payload is required.' : parsed.error });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const { eventPublish } = await gql<EventPublishMutation>(EVENT_PUBLISH, {
        input: { eventType, payload: parsed.value },
      });
      if (eventPublish.userErrors.length || !eventPublish.event) {
        const { byField, other } = fieldErrors(eventPublish.userErrors);
        setErrors(byField);
        setGeneral(other);
        return;
      }
      setPublished(eventPublish.event.id);
    } catch (error) {
      setGeneral([error instanceof ApiError ? error.message : String(error)]);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="card form" onSubmit=${submit} aria-labelledby=${`${id}-title`} novalidate>
    <h2 id=${`${id}-title`}>Publish a test event</h2>
    ${general.length ? html`<${ErrorBox}>${general.join(' ')}<//>` : null}
    <div class=${'field' + (errors.eventType ? ' has-error' : '')}>
      <label for=${`${id}-type`}>Event type</label>
      <select id=${`${id}-type`} value=${eventType} onChange=${(e: Event) => setEventType((e.currentTarget as HTMLSelectElement).value)}>
        ${eventTypes.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
      </select>
      ${errors.eventType ? html`<p class="field-error" role="alert">${errors.eventType}</p>` : null}
    </div>
    <${Field} label="Payload (JSON)" name="payload" multiline monospace rows=${6} value=${payload} onInput=${setPayload} error=${errors.payload} />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy || !eventType}>${busy ? 'Publishing…' : 'Publish event'}</button>
    </div>
    ${published
      ? html`<p class="notice" role="status">Published event <code>${published}</code>. Follow its deliveries on the <a href="/admin/" onClick=${onLinkClick}>Deliveries</a> page.</p>`
      : null}
  </form>`;
}
