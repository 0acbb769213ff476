import { createHash } from 'node:crypto';

/**
 * `orderingKey`: a dotted path into the delivered body `{id, type,
 * timestamp, data}` (the shaped body when a payload query shapes it), e.g.
 * `data.orderId`. Deliveries whose value at the path is the same go one at a
 * time in publish order; a delivery without a value there (missing or null)
 * is not ordered.
 */

/** Longest accepted path. */
export const MAX_ORDERING_KEY = 200;
/** Most segments of the path (`data.a.b` has three). */
export const MAX_ORDERING_KEY_DEPTH = 16;
/** The top-level fields of a delivered body: the first segment must be one of them. */
export const BODY_FIELDS: readonly string[] = ['id', 'type', 'timestamp', 'data'];

const SEGMENT = /^[A-Za-z0-9_$-]+$/;

/** Why `path` is not a usable ordering key, or null when it is. */
export function orderingKeyProblem(path: string): string | null {
  if (path.length > MAX_ORDERING_KEY) return `orderingKey is longer than ${MAX_ORDERING_KEY} characters.`;
  const segments = path.split('.');
  if (segments.length > MAX_ORDERING_KEY_DEPTH) return `orderingKey has more than ${MAX_ORDERING_KEY_DEPTH} segments.`;
  const bad = segments.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) {
    return bad === ''
      ? `"${path.slice(0, 80)}" is not a dotted path: segments are separated by single dots, with none at either end (e.g. "data.orderId").`
      : `The segment "${bad.slice(0, 80)}" of orderingKey may only contain letters, digits, "_", "-" and "$".`;
  }
  if (!BODY_FIELDS.includes(segments[0])) {
    return `orderingKey is a path into the delivered body {id, type, timestamp, data}, so it starts with one of those (e.g. "data.${segments[0]}" rather than "${segments[0]}").`;
  }
  return null;
}

/** The value at `path` in `body`, reading own properties only (numeric segments index arrays); undefined when absent or null. */
export function valueAt(body: unknown, path: string): unknown {
  let value: unknown = body;
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value ?? undefined;
}

/**
 * The pg-boss key of a delivery: the subscription alone for `ordered`, or the
 * subscription and a hash of the key value (JSON, so `1` and `"1"` differ):
 * short, and the value itself stays out of the queue's metadata.
 */
export function orderingKeyHash(subscriptionId: string, value: unknown): string {
  return createHash('sha256').update(subscriptionId).update('\0').update(JSON.stringify(value)).digest('base64url').slice(0, 22);
}
