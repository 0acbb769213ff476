/** Trims a name-like input; undefined when nothing is left. */
export function cleanName(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Why PostgreSQL cannot store `value` as text or inside jsonb, or undefined:
 * it refuses NUL, and an unpaired UTF-16 surrogate has no UTF-8 form.
 */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (/\p{Cs}/u.test(value)) return 'contains an unpaired UTF-16 surrogate';
  return undefined;
}
