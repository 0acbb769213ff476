import { html } from 'htm/preact';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, request } from './api';
import { createLive, type Live, type LiveState } from './live';
import { SessionContext, type Session, type Viewer } from './session-context';
import { clearKey, storedKey, storeKey, takeKeyFromFragment } from './session';
import { Layout } from './components/Layout';
import { SignIn } from './components/SignIn';
import { ErrorBox } from './components/ui';
import './styles.css';

const VIEWER = '{ viewer { root scopes tenant { id name } apiKey { id name prefix } } }';

type State =
  | { kind: 'checking'; key: string }
  | { kind: 'signed-out'; message?: string }
  | { kind: 'unreachable'; key: string; message: string }
  | { kind: 'signed-in'; key: string; viewer: Viewer };

function initialState(): State {
  const key = takeKeyFromFragment() ?? storedKey();
  return key ? { kind: 'checking', key } : { kind: 'signed-out' };
}

function App() {
  const [state, setState] = useState<State>(initialState);
  const [liveState, setLiveState] = useState<LiveState>('connecting');

  const signOut = useCallback((message?: string) => {
    clearKey();
    setState({ kind: 'signed-out', message });
  }, []);

  // Check a key (typed, from #key= or from a previous load) with `viewer` before using it.
  useEffect(() => {
    if (state.kind !== 'checking') return;
    let cancelled = false;
    request<{ viewer: Viewer }>(state.key, VIEWER).then(
      ({ viewer }) => {
        if (cancelled) return;
        if (viewer.root || !viewer.tenant) {
          signOut('That is the root key: it manages tenants only. Sign in with an API key of a tenant.');
          return;
        }
        storeKey(state.key);
        setState({ kind: 'signed-in', key: state.key, viewer });
      },
      (error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && (error.kind === 'network' || error.kind === 'server')) {
          setState({ kind: 'unreachable', key: state.key, message: error.message });
        } else {
          signOut(error instanceof ApiError && error.kind === 'unauthenticated' ? 'That API key was not accepted: it is mistyped, revoked or expired.' : String((error as Error).message));
        }
      },
    );
    return () => {
      cancelled = true;
    };
  }, [state, signOut]);

  const key = state.kind === 'signed-in' ? state.key : null;
  const live = useMemo<Live | null>(() => (key ? createLive(key, setLiveState) : null), [key]);
  useEffect(() => () => live?.dispose(), [live]);
  useEffect(() => {
    if (liveState === 'rejected') signOut('Your API key is no longer accepted (revoked or expired). Sign in again.');
  }, [liveState, signOut]);

  const session = useMemo<Session | null>(() => {
    if (state.kind !== 'signed-in' || !live) return null;
    return {
      key: state.key,
      viewer: state.viewer,
      live,
      signOut,
      async gql(query, variables) {
        try {
          return await request(state.key, query, variables);
        } catch (error) {
          if (error instanceof ApiError && error.kind === 'unauthenticated') signOut('Your API key is no longer accepted (revoked or expired). Sign in again.');
          throw error;
        }
      },
    };
  }, [state, live, signOut]);

  switch (state.kind) {
    case 'checking':
      return html`<main class="sign-in"><p class="loading" role="status">Checking your API key…</p></main>`;
    case 'unreachable':
      return html`<main class="sign-in"><div class="card">
        <h1>hookgraph admin</h1>
        <${ErrorBox} onRetry=${() => setState({ kind: 'checking', key: state.key })}>${state.message}<//>
        <button type="button" class="link" onClick=${() => signOut()}>Sign in with another key</button>
      </div></main>`;
    case 'signed-out':
      return html`<${SignIn} message=${state.message} busy=${false} onSubmit=${(k: string) => setState({ kind: 'checking', key: k })} />`;
    case 'signed-in':
      return html`<${SessionContext.Provider} value=${session}><${Layout} liveState=${liveState} /><//>`;
  }
}

render(html`<${App} />`, document.getElementById('app')!);
