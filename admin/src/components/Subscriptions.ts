import { html } from 'htm/preact';

export function Subscriptions() {
  return html`<div class="page"><h1>Subscriptions</h1><p>Coming next.</p></div>`;
}
