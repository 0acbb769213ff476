import { html } from 'htm/preact';
import type { LiveState } from '../live';
import { onLinkClick, ROUTES, useRoute } from '../router';
import { useSession } from '../session-context';
import { Deliveries } from './Deliveries';
import { EventTypes } from './EventTypes';
import { Subscriptions } from './Subscriptions';

const LIVE_LABEL: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  rejected: 'Key rejected',
};

/** Header (tenant, navigation, live status, sign out) around the current page. */
export function Layout({ liveState }: { liveState: LiveState }) {
  const { viewer, signOut } = useSession();
  const route = useRoute();
  return html`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <div class="brand"><span class="logo" aria-hidden="true">◆</span> hookgraph <span class="tenant" title="Tenant">${viewer.tenant?.name}</span></div>
      <nav aria-label="Main">
        <ul>
          ${ROUTES.map(
            (r) => html`<li><a href=${r.path} onClick=${onLinkClick} aria-current=${route === r.route ? 'page' : undefined}>${r.label}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="session">
        <span class=${`live live-${liveState}`} role="status" aria-live="polite" data-testid="live-state"
          title="Live updates over graphql-ws"><span class="dot" aria-hidden="true"></span>${LIVE_LABEL[liveState]}</span>
        <span class="key" title="Signed in with this key">${viewer.apiKey?.name ?? ''} <code>${viewer.apiKey?.prefix ?? ''}…</code> · ${viewer.scopes.join(', ')}</span>
        <button type="button" class="secondary" onClick=${() => signOut()}>Sign out</button>
      </div>
    </header>
    ${liveState === 'reconnecting'
      ? html`<div class="banner" role="status">Connection to the server lost: reconnecting… Tables catch up once it is back.</div>`
      : null}
    <main id="main" tabindex="-1">
      ${route === 'deliveries' ? html`<${Deliveries} />` : route === 'subscriptions' ? html`<${Subscriptions} />` : html`<${EventTypes} />`}
    </main>
  </div>`;
}
