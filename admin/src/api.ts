/** GraphQL over HTTP against the same origin's /graphql, with the session's key. */

export type ApiErrorKind = 'unauthenticated' | 'forbidden' | 'network' | 'server' | 'graphql';

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

export async function request<T>(key: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('network', 'Cannot reach the hookgraph server. Is it running?');
  }
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError('server', `The server answered ${response.status} ${response.statusText || ''} without a GraphQL response.`.trim());
  }
  const error = body.errors?.[0];
  if (error) {
    const code = error.extensions?.code;
    if (code === 'UNAUTHENTICATED') throw new ApiError('unauthenticated', 'This API key is not valid: it may be mistyped, revoked or expired.');
    if (code === 'FORBIDDEN') throw new ApiError('forbidden', 'This API key may not do that (missing scope).');
    if (code === 'INTERNAL_SERVER_ERROR') throw new ApiError('server', 'The server hit an unexpected error. Try again; the server log has details.');
    throw new ApiError('graphql', error.message);
  }
  if (!body.data) throw new ApiError('server', 'The server returned no data.');
  return body.data;
}

/** userErrors keyed by the input field they name (last path segment), plus those naming none. */
export function fieldErrors(errors: UserError[] | undefined): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const error of errors ?? []) {
    const path = (error.field ?? []).filter((segment) => segment !== 'input' && !/^\d+$/.test(segment));
    const name = path[0];
    if (name && !(name in byField)) byField[name] = error.message;
    else other.push(error.message);
  }
  return { byField, other };
}
