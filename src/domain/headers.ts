/**
 * Custom request headers of a subscription (e.g. an `authorization` the
 * receiver expects). Names are normalised to lowercase. Headers that would
 * break the transport or forge hookgraph's own are refused: hop-by-hop
 * headers, `host`, `content-length`, `content-type` and the `webhook-*`
 * signature headers.
 */
export const MAX_HEADERS = 20;
export const MAX_HEADER_NAME = 64;
export const MAX_HEADER_VALUE = 2048;

const FORBIDDEN = new Set([
  // hop-by-hop (RFC 9110 §7.6.1) and their relatives
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  // set by hookgraph for every delivery
  'host',
  'content-length',
  'content-type',
  'expect',
]);

/** RFC 9110 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, space and tab; no CR, LF or NUL (header injection). */
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export type HeaderProblem = { name: string | null; kind: 'invalid' | 'forbidden' | 'too_large'; message: string };

export function isForbiddenHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN.has(lower) || lower.startsWith('webhook-');
}

/** Checks and normalises custom headers; `headers` is set only when there are no problems. */
export function validateHeaders(input: unknown): { headers?: Record<string, string>; problems: HeaderProblem[] } {
  if (input === null || input === undefined) return { headers: {}, problems: [] };
  if (typeof input !== 'object' || Array.isArray(input)) {
    return { problems: [{ name: null, kind: 'invalid', message: 'Headers must be a JSON object of header names to string values.' }] };
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) return { problems: [{ name: null, kind: 'too_large', message: `At most ${MAX_HEADERS} custom headers.` }] };
  const problems: HeaderProblem[] = [];
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    const shown = name.slice(0, MAX_HEADER_NAME);
    if (name.length === 0 || name.length > MAX_HEADER_NAME || !TOKEN.test(name)) {
      problems.push({ name: shown, kind: 'invalid', message: `"${shown}" is not a valid header name (1–${MAX_HEADER_NAME} token characters).` });
    } else if (isForbiddenHeader(name)) {
      problems.push({ name, kind: 'forbidden', message: `The header "${lower}" is set by hookgraph or the transport and may not be customised.` });
    } else if (typeof value !== 'string') {
      problems.push({ name, kind: 'invalid', message: `The value of "${name}" must be a string.` });
    } else if (value.length > MAX_HEADER_VALUE) {
      problems.push({ name, kind: 'too_large', message: `The value of "${name}" is longer than ${MAX_HEADER_VALUE} characters.` });
    } else if (!VALUE.test(value)) {
      problems.push({ name, kind: 'invalid', message: `The value of "${name}" contains control characters.` });
    } else if (Object.hasOwn(headers, lower)) {
      problems.push({ name, kind: 'invalid', message: `The header "${lower}" is given more than once.` });
    } else {
      headers[lower] = value.trim();
    }
  }
  return problems.length ? { problems } : { headers, problems };
}
