import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorBox, useId } from './ui';

/** The sign-in screen: one API key field; `message` explains why we are here (bad key, expired…). */
export function SignIn({ onSubmit, message, busy }: { onSubmit: (key: string) => void; message?: string; busy: boolean }) {
  const [key, setKey] = useState('');
  const id = useId('key');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), [message]);
  const submit = (event: Event) => {
    event.preventDefault();
    if (key.trim()) onSubmit(key.trim());
  };
  return html`<main class="sign-in">
    <form class="card" onSubmit=${submit} aria-labelledby=${`${id}-title`}>
      <h1 id=${`${id}-title`}><span class="logo" aria-hidden="true">◆</span> hookgraph admin</h1>
      <p>Sign in with an API key of your tenant. The key stays in this tab only (session storage) and is forgotten when you sign out or close the tab.</p>
      ${message ? html`<${ErrorBox}>${message}<//>` : null}
      <div class="field">
        <label for=${id}>API key</label>
        <input ref=${input} id=${id} name="apiKey" type="password" autocomplete="off" spellcheck=${false} class="mono"
          placeholder="hg_…" value=${key} required onInput=${(e: Event) => setKey((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      <p class="hint">Tip: <code>/admin#key=&lt;api key&gt;</code> signs in directly; the key is removed from the address bar at once.</p>
    </form>
  </main>`;
}
