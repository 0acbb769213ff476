import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, fieldErrors } from '../api';
import { json, parseJsonField } from '../format';
import type { EventTypeCreateMutation, EventTypeUpdateMutation } from '../generated/graphql.js';
import { EVENT_TYPE_CREATE, EVENT_TYPE_UPDATE, type EventTypeRow } from '../queries';
import { useSession } from '../session-context';
import { ErrorBox, Field, useId } from './ui';

/**
 * Create an event type, or edit its description and JSON Schema; server
 * errors sit next to their field. Saved with warnings (a payload query that
 * selects a field the new schema dropped), onSaved gets their messages.
 */
export function EventTypeForm({ existing, onSaved, onCancel }: { existing?: EventTypeRow; onSaved: (row: EventTypeRow, warnings: string[]) => void; onCancel: () => void }) {
  const { gql } = useSession();
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [schema, setSchema] = useState(json(existing?.schema));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const titleId = useId('et-form');

  const submit = async (event: Event) => {
    event.preventDefault();
    const parsed = parseJsonField(schema);
    setGeneral([]);
    if (!parsed.ok) {
      setErrors({ schema: parsed.error });
      return;
    }
    setErrors({});
    const input = { name: existing ? existing.name : name.trim(), description: description.trim() || null, schema: parsed.value };
    setBusy(true);
    try {
      const result = existing
        ? (await gql<EventTypeUpdateMutation>(EVENT_TYPE_UPDATE, { input })).eventTypeUpdate
        : (await gql<EventTypeCreateMutation>(EVENT_TYPE_CREATE, { input })).eventTypeCreate;
      if (result.userErrors.length || !result.eventType) {
        const { byField, other } = fieldErrors(result.userErrors);
        setErrors(byField);
        setGeneral(other.length || Object.keys(byField).length ? other : ['The server did not save the event type.']);
        return;
      }
      onSaved(result.eventType, result.warnings.map((w) => w.message));
    } catch (error) {
      setGeneral([error instanceof ApiError ? error.message : String(error)]);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="card form" onSubmit=${submit} aria-labelledby=${titleId} novalidate>
    <h2 id=${titleId}>${existing ? html`Edit <code>${existing.name}</code>` : 'New event type'}</h2>
    ${general.length ? html`<${ErrorBox}>${general.join(' ')}<//>` : null}
    ${existing
      ? null
      : html`<${Field} label="Name" name="name" required value=${name} onInput=${setName} error=${errors.name} monospace
          placeholder="order.created" hint="Lowercase segments separated by dots." />`}
    <${Field} label="Description" name="description" value=${description} onInput=${setDescription} error=${errors.description} />
    <${Field} label="JSON Schema" name="schema" multiline monospace rows=${8} value=${schema} onInput=${setSchema} error=${errors.schema}
      hint='Optional (draft-07). Published payloads must satisfy it, e.g. {"type": "object", "required": ["id"]}' />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : existing ? 'Save changes' : 'Create event type'}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}
