import { isOutdatedSeal, openSecret, sealSecret } from './secrets.js';

/**
 * Custom header values are secrets (they often carry the receiver's
 * credentials): stored sealed per value under HOOKGRAPH_SECRET_KEY with the
 * subscription id as additional data, like signing secrets. Names stay in
 * the clear (`{"authorization": "v2.…"}`), so reads can list them masked
 * without the key.
 */
export const MASKED_VALUE = '********';

/**
 * Values written before headers were sealed: the migration that introduced
 * sealing (no key in SQL) tags them `plain:`; the startup step seals them
 * (src/db/seal-rows.ts). Until it has run they are still sent as they were.
 */
export const LEGACY_PLAIN_PREFIX = 'plain:';

export type StoredHeaders = Record<string, string>;

export function sealHeaders(secretKey: Buffer, id: string, headers: Readonly<Record<string, string>>): StoredHeaders {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, sealSecret(secretKey, value, id)]));
}

/** The plain header values to send; throws when one does not open (wrong key, or a value moved from another row). */
export function openHeaders(secretKey: Buffer, id: string, stored: StoredHeaders | null | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(stored ?? {})) {
    headers[name] = value.startsWith(LEGACY_PLAIN_PREFIX) ? value.slice(LEGACY_PLAIN_PREFIX.length) : openSecret(secretKey, value, id);
  }
  return headers;
}

/** Every header name with its value masked: what any reader of the subscription sees. */
export function maskHeaders(stored: StoredHeaders | null | undefined): Record<string, string> {
  return Object.fromEntries(Object.keys(stored ?? {}).map((name) => [name, MASKED_VALUE]));
}

/** Whether some stored value is not sealed in the current format (legacy plain text, or v1). */
export function headersNeedSealing(stored: StoredHeaders | null | undefined): boolean {
  return Object.values(stored ?? {}).some((value) => value.startsWith(LEGACY_PLAIN_PREFIX) || isOutdatedSeal(value));
}

/** Seals every value again in the current format (opening legacy plain and v1 values). */
export function resealHeaders(secretKey: Buffer, id: string, stored: StoredHeaders | null | undefined): StoredHeaders {
  return sealHeaders(secretKey, id, openHeaders(secretKey, id, stored));
}

/**
 * The stored headers after an update that gives `given` (validated, names
 * lowercase). A value of `********` keeps the stored value of that header, so
 * a client that only ever saw masked values can change one header, or none,
 * and send the rest back as it read them. Names left out are removed.
 * Returns the names that ask to be kept but have no stored value.
 */
export function updatedHeaders(
  secretKey: Buffer,
  id: string,
  stored: StoredHeaders | null | undefined,
  given: Readonly<Record<string, string>>,
): { headers: StoredHeaders; unknownKept: string[] } {
  const headers: StoredHeaders = {};
  const unknownKept: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    if (value !== MASKED_VALUE) headers[name] = sealSecret(secretKey, value, id);
    else if (stored && Object.hasOwn(stored, name)) headers[name] = headersNeedSealing({ [name]: stored[name] }) ? resealHeaders(secretKey, id, { [name]: stored[name] })[name] : stored[name];
    else unknownKept.push(name);
  }
  return { headers, unknownKept };
}
