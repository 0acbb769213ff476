import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, fieldErrors } from '../api';
import { downloadAsyncApi } from '../asyncapi';
import { json, timeAgo } from '../format';
import type { GraphqlType as GraphqlTypeSdl } from '../event-schema';
import type { EventSchemaQuery, EventTypeArchiveMutation, EventTypesQuery, EventTypeUpdateMutation } from '../generated/graphql.js';
import { EVENT_SCHEMA, EVENT_TYPE_ARCHIVE, EVENT_TYPE_UPDATE, EVENT_TYPES, type EventTypeRow } from '../queries';
import { useSession } from '../session-context';
import { EventTypeForm } from './EventTypeForm';
import { PublishForm } from './PublishForm';
import { Empty, ErrorBox, Loading, Notice } from './ui';

type Editing = { kind: 'none' } | { kind: 'create' } | { kind: 'edit'; row: EventTypeRow };

/**
 * Event types: list with each one's JSON Schema and the GraphQL type the event
 * schema gives it, create, edit description and schema (showing warnings about
 * payload queries), archive/restore, publish a test event.
 */
export function EventTypes() {
  const { gql, key } = useSession();
  const [rows, setRows] = useState<EventTypeRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing>({ kind: 'none' });
  const [notice, setNotice] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const [showArchived, setShowArchived] = useState(false);
  // The event schema changes with every save: reloaded after each one.
  const [graphqlTypes, setGraphqlTypes] = useState<Map<string, GraphqlTypeSdl>>(new Map());
  const [schemaVersion, setSchemaVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    gql<EventTypesQuery>(EVENT_TYPES, { first: 100, includeArchived: true }).then(
      (data) => !cancelled && (setRows(data.eventTypes.nodes), setError(null)),
      (err: unknown) => !cancelled && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      cancelled = true;
    };
  }, [generation]);

  useEffect(() => {
    let cancelled = false;
    Promise.all([import('../event-schema'), gql<EventSchemaQuery>(EVENT_SCHEMA)]).then(
      ([{ graphqlTypes }, data]) => !cancelled && setGraphqlTypes(graphqlTypes(data.eventSchema.sdl, data.eventTypes.nodes.map((t) => t.name))),
      () => !cancelled && setGraphqlTypes(new Map()),
    );
    return () => {
      cancelled = true;
    };
  }, [generation, schemaVersion]);

  const upsert = (row: EventTypeRow) => {
    setRows((current) => ((current ?? []).some((r) => r.id === row.id) ? current!.map((r) => (r.id === row.id ? row : r)) : [row, ...(current ?? [])]));
    setSchemaVersion((v) => v + 1);
  };

  const setArchived = async (row: EventTypeRow, archived: boolean) => {
    setNotice(null);
    try {
      const result = archived
        ? (await gql<EventTypeArchiveMutation>(EVENT_TYPE_ARCHIVE, { input: { name: row.name } })).eventTypeArchive
        : (await gql<EventTypeUpdateMutation>(EVENT_TYPE_UPDATE, { input: { name: row.name, archived: false } })).eventTypeUpdate;
      const { byField, other } = fieldErrors(result.userErrors);
      const problems = [...Object.values(byField), ...other];
      if (problems.length || !result.eventType) setNotice(problems.join(' ') || 'Nothing changed.');
      else {
        upsert(result.eventType);
        setNotice(`${row.name} is ${archived ? 'archived: new events of this type are refused' : 'active again'}.`);
      }
    } catch (err) {
      setNotice(err instanceof ApiError ? err.message : String(err));
    }
  };

  const visible = (rows ?? []).filter((r) => showArchived || !r.archived);
  const archivedCount = (rows ?? []).filter((r) => r.archived).length;
  return html`<div class="page event-types">
    <div class="page-head">
      <h1>Event types</h1>
      <div class="page-actions">
      <button type="button" class="secondary" title="AsyncAPI 3.0 document of the active event types (/asyncapi.json)"
        onClick=${() => (setNotice(null), downloadAsyncApi(key).catch((err: unknown) => setNotice(err instanceof ApiError ? err.message : String(err))))}>AsyncAPI catalog</button>
      ${editing.kind === 'none' ? html`<button type="button" class="primary" onClick=${() => setEditing({ kind: 'create' })}>New event type</button>` : null}
      </div>
    </div>
    ${notice ? html`<${Notice}>${notice}<//>` : null}
    ${editing.kind !== 'none'
      ? html`<${EventTypeForm} key=${editing.kind === 'edit' ? editing.row.id : 'new'} existing=${editing.kind === 'edit' ? editing.row : undefined}
          onSaved=${(row: EventTypeRow, warnings: string[]) => (upsert(row), setEditing({ kind: 'none' }), setNotice(`Saved ${row.name}.${warnings.length ? ` Warning: ${warnings.join(' ')}` : ''}`))}
          onCancel=${() => setEditing({ kind: 'none' })} />`
      : null}
    ${error ? html`<${ErrorBox} onRetry=${() => setGeneration((g) => g + 1)}>${error}<//>` : null}
    ${rows === null
      ? error
        ? null
        : html`<${Loading} label="Loading event types…" />`
      : html`${rows.every((r) => r.system)
          ? html`<${Empty} title="No event types yet.">
              <p>Event types name what producers publish (e.g. <code>order.created</code>) and can carry a JSON Schema that every payload must satisfy.
                The <span class="badge badge-system">system</span> ones below are hookgraph's own, about this tenant's webhook health.</p>
            <//>`
          : null}
        ${visible.length === 0 ? null : html`<div>
            ${archivedCount
              ? html`<label class="check"><input type="checkbox" checked=${showArchived} onChange=${(e: Event) => setShowArchived((e.currentTarget as HTMLInputElement).checked)} /> Show ${archivedCount} archived</label>`
              : null}
            <div class="table-wrap">
              <table class="data" aria-label="Event types">
                <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col" class="opt">Schema</th><th scope="col" class="opt">Created</th><th scope="col">Actions</th></tr></thead>
                <tbody>
                  ${visible.map(
                    (row) => html`<tr key=${row.id} data-event-type=${row.name} class=${row.archived ? 'archived' : ''}>
                      <td><code>${row.name}</code>${row.archived ? html` <span class="badge badge-archived">archived</span>` : null}${row.system
                        ? html` <span class="badge badge-system" title="Published by hookgraph about this tenant's webhook health; subscribe with hookgraph.* (not matched by *)">system</span>`
                        : null}</td>
                      <td>${row.description ?? html`<span class="muted">—</span>`}</td>
                      <td class="opt"><div class="schemas">
                        ${row.schema ? html`<details><summary>JSON Schema</summary><pre>${json(row.schema)}</pre></details>` : html`<span class="muted">any payload</span>`}
                        ${row.archived ? null : html`<${GraphqlType} type=${graphqlTypes.get(row.name)} />`}
                      </div></td>
                      <td class="opt">${timeAgo(row.createdAt)}</td>
                      <td class="actions">
                        ${row.system ? html`<span class="muted">built in</span>` : html`<button type="button" class="secondary" onClick=${() => setEditing({ kind: 'edit', row })} aria-label=${`Edit ${row.name}`}>Edit</button>`}
                        ${row.system ? null : row.archived
                          ? html`<button type="button" class="secondary" onClick=${() => setArchived(row, false)} aria-label=${`Restore ${row.name}`}>Restore</button>`
                          : html`<button type="button" class="secondary" onClick=${() => confirm(`Archive ${row.name}? New events of this type will be refused.`) && setArchived(row, true)} aria-label=${`Archive ${row.name}`}>Archive</button>`}
                      </td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>
          </div>`}`}
    ${rows && rows.some((r) => !r.archived && !r.system) ? html`<${PublishForm} eventTypes=${rows.filter((r) => !r.archived && !r.system)} />` : null}
  </div>`;
}

/** The GraphQL type payloads of this event type have in the event schema (what payload queries select from). */
function GraphqlType({ type }: { type: GraphqlTypeSdl | undefined }) {
  if (!type) return null;
  return html`<details data-testid="graphql-type">
    <summary>GraphQL type</summary>
    <pre><code>${`# Subscription.${type.field}${type.sdl ? `\n\n${type.sdl}` : '\n# any JSON: no JSON Schema, or none the event schema can type'}`}</code></pre>
  </details>`;
}
