import { ApiError } from './api';

/**
 * Downloads the tenant's AsyncAPI catalog (GET /asyncapi.json). The key lives
 * in JS, so a plain link could not send it: fetch with the key, then save the
 * answer through a Blob URL.
 */
export async function downloadAsyncApi(key: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/asyncapi.json', { headers: { accept: 'application/json', authorization: `Bearer ${key}` } });
  } catch {
    throw new ApiError('network', 'Cannot reach the hookgraph server. Is it running?');
  }
  if (response.status === 401) throw new ApiError('unauthenticated', 'This API key is not valid: it may be mistyped, revoked or expired.');
  if (response.status === 403) throw new ApiError('forbidden', 'This API key may not read the event catalog (needs READ).');
  if (!response.ok) throw new ApiError('server', `The server answered ${response.status} for the AsyncAPI catalog.`);
  const url = URL.createObjectURL(new Blob([await response.text()], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'asyncapi.json';
  document.body.append(link);
  link.click();
  link.remove();
  // Released later rather than at once: some browsers read the Blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
