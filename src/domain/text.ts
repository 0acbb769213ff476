/** Trims a name-like input; undefined when nothing is left. */
export function cleanName(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
