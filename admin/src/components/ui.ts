import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

let nextId = 0;
/** A stable id for label/aria wiring. */
export function useId(prefix: string): string {
  const ref = useRef<string | undefined>(undefined);
  if (!ref.current) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

interface FieldProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  error?: string;
  hint?: string;
  type?: string;
  required?: boolean;
  multiline?: boolean;
  rows?: number;
  placeholder?: string;
  name?: string;
  autocomplete?: string;
  monospace?: boolean;
}

/** A labelled input or textarea with its hint and the server's error right under it. */
export function Field(props: FieldProps) {
  const id = useId('field');
  const describedBy = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: props.name,
    value: props.value,
    required: props.required,
    placeholder: props.placeholder,
    autocomplete: props.autocomplete ?? 'off',
    'aria-invalid': props.error ? 'true' : undefined,
    'aria-describedby': describedBy,
    class: props.monospace ? 'mono' : undefined,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return html`<div class=${'field' + (props.error ? ' has-error' : '')}>
    <label for=${id}>${props.label}${props.required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</label>
    ${props.multiline
      ? html`<textarea ...${common} rows=${props.rows ?? 4} spellcheck=${false}></textarea>`
      : html`<input ...${common} type=${props.type ?? 'text'} />`}
    ${props.hint ? html`<p class="hint" id=${`${id}-hint`}>${props.hint}</p>` : null}
    ${props.error ? html`<p class="field-error" id=${`${id}-error`} role="alert">${props.error}</p>` : null}
  </div>`;
}

export function ErrorBox({ children, onRetry }: { children: ComponentChildren; onRetry?: () => void }) {
  return html`<div class="error-box" role="alert">
    <span>${children}</span>
    ${onRetry ? html`<button type="button" class="secondary" onClick=${onRetry}>Try again</button>` : null}
  </div>`;
}

export function Notice({ children }: { children: ComponentChildren }) {
  return html`<div class="notice" role="status">${children}</div>`;
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return html`<div class="empty"><p class="empty-title">${title}</p>${children ? html`<div>${children}</div>` : null}</div>`;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return html`<p class="loading" role="status" aria-live="polite">${label}</p>`;
}

export function StatusBadge({ status }: { status: string }) {
  return html`<span class=${`badge badge-${status.toLowerCase()}`} data-status=${status}>${status.replace('_', ' ')}</span>`;
}

/**
 * Next to a PENDING delivery of an ordered subscription: it may be waiting
 * behind earlier deliveries of its key. hookgraph does not say which ones are
 * held, only that they can be, so the title says what it means.
 */
export function WaitingForKey({ delivery }: { delivery: { status: string; webhookSubscription: { ordered: boolean; orderingKey?: string | null } } }) {
  const { ordered, orderingKey } = delivery.webhookSubscription;
  if (delivery.status !== 'PENDING' || !(ordered || orderingKey)) return null;
  const title = ordered
    ? 'The subscription is ordered: this delivery goes out once the earlier ones are done.'
    : `Ordered by ${orderingKey}: this delivery goes out once the earlier ones with the same value are done (deliveries without a value there are not held).`;
  return html`<span class="hint waiting-for-key" title=${title}>waiting for key</span>`;
}

/** Copies `text`; falls back to selecting a hidden field where the Clipboard API is unavailable (plain http). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (copied === 'idle') return;
    const timer = setTimeout(() => setCopied('idle'), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  const copy = async () => {
    try {
      if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
      else fallbackCopy(text);
      setCopied('copied');
    } catch {
      setCopied(fallbackCopy(text) ? 'copied' : 'failed');
    }
  };
  return html`<button type="button" class="secondary" onClick=${copy}>
    ${copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed: select it' : label}
  </button>`;
}

function fallbackCopy(text: string): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** A value shown once (a secret): read-only, selectable, with a copy button and a warning. */
export function SecretReveal({ title, secret, onDone }: { title: string; secret: string; onDone: () => void }) {
  const id = useId('secret');
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<section class="secret-reveal" aria-labelledby=${`${id}-title`} data-testid="secret-reveal">
    <h3 id=${`${id}-title`}>${title}</h3>
    <p>This is the only time the signing secret is shown. Store it with the receiver now; hookgraph keeps it encrypted and cannot show it again.</p>
    <div class="secret-row">
      <label class="visually-hidden" for=${id}>Signing secret</label>
      <input ref=${ref} id=${id} class="mono" readonly value=${secret} onFocus=${(e: Event) => (e.currentTarget as HTMLInputElement).select()} />
      <${CopyButton} text=${secret} />
    </div>
    <button type="button" onClick=${onDone}>I have stored it</button>
  </section>`;
}
