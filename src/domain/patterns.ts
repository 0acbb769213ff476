/**
 * Event type names and the patterns subscriptions use to pick them.
 *
 * A name is lowercase dot-separated segments: `order.created`,
 * `billing.invoice.paid`, `payment_intent.succeeded`. Each segment starts with
 * a letter and continues with letters, digits, `_` or `-`.
 *
 * A pattern is a name whose segments may be `*`:
 * - `*` as the LAST segment matches one or more segments: `order.*` matches
 *   `order.created` and `order.item.added`, but not `order` itself;
 * - `*` anywhere else matches exactly one segment: `*.created` matches
 *   `order.created`, not `billing.invoice.created`;
 * - the pattern `*` alone therefore matches every event type of the tenant;
 * - hookgraph's own types (`hookgraph.subscription.disabled`, …) are matched
 *   only by patterns that spell out `hookgraph` as their first segment
 *   (`hookgraph.*`, `hookgraph.delivery.failed`): `*` and `*.delivery.failed`
 *   do not bring them to a subscription that never asked for them.
 * Matching walks segments; no regular expressions are built from input.
 */
export const MAX_EVENT_TYPE_NAME_LENGTH = 128;
/** First segment of hookgraph's own event types (operational events and `hookgraph.test`). */
export const SYSTEM_NAMESPACE = 'hookgraph';
export const MAX_SEGMENTS = 16;

const SEGMENT = /^[a-z][a-z0-9_-]*$/;

function segmentsOf(text: unknown): string[] | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_EVENT_TYPE_NAME_LENGTH) return undefined;
  const segments = text.split('.');
  return segments.length > MAX_SEGMENTS ? undefined : segments;
}

export function isValidEventTypeName(name: unknown): boolean {
  const segments = segmentsOf(name);
  return segments !== undefined && segments.every((s) => SEGMENT.test(s));
}

export function isValidPattern(pattern: unknown): boolean {
  const segments = segmentsOf(pattern);
  return segments !== undefined && segments.every((s) => s === '*' || SEGMENT.test(s));
}

/** Whether the pattern contains a wildcard (otherwise it names one event type exactly). */
export function isWildcard(pattern: string): boolean {
  return pattern.split('.').includes('*');
}

/** Whether `type` (an event type name) is selected by `pattern`. Invalid patterns match nothing. */
export function patternMatches(pattern: string, type: string): boolean {
  if (pattern === type) return isValidPattern(pattern);
  if (!isValidPattern(pattern)) return false;
  const want = pattern.split('.');
  const have = type.split('.');
  if (have[0] === SYSTEM_NAMESPACE && want[0] !== SYSTEM_NAMESPACE) return false;
  const last = want.length - 1;
  for (let i = 0; i < want.length; i++) {
    if (i === last && want[i] === '*') return have.length > last;
    if (i >= have.length) return false;
    if (want[i] !== '*' && want[i] !== have[i]) return false;
  }
  return have.length === want.length;
}

export function anyPatternMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => patternMatches(pattern, type));
}

/** Why `pattern` is not valid, for user-facing errors. */
export function patternProblem(pattern: string): string | undefined {
  if (isValidPattern(pattern)) return undefined;
  if (pattern.length === 0) return 'A pattern may not be empty.';
  if (pattern.length > MAX_EVENT_TYPE_NAME_LENGTH) return `A pattern is at most ${MAX_EVENT_TYPE_NAME_LENGTH} characters.`;
  if (pattern.split('.').length > MAX_SEGMENTS) return `A pattern has at most ${MAX_SEGMENTS} segments.`;
  return `"${pattern}" is not a valid pattern: use lowercase dot-separated segments (letters, digits, _ or -, starting with a letter), each either a name or "*".`;
}
