import { html } from 'htm/preact';

export function EventTypes() {
  return html`<div class="page"><h1>EventTypes</h1><p>Coming next.</p></div>`;
}
