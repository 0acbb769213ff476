/**
 * The API key lives in sessionStorage only: it survives a reload of the tab,
 * never reaches disk-backed localStorage or cookies, and is gone when the tab
 * closes or the user signs out.
 */
const STORAGE_KEY = 'hookgraph.apiKey';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the user signs in on each load
  }
}

export function storeKey(key: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    /* kept in memory only */
  }
}

export function clearKey(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing stored */
  }
}

/**
 * `/admin#key=<key>` signs in directly. The fragment never reaches the server;
 * we take the key out of it and drop it from the address bar and history at once.
 */
export function takeKeyFromFragment(): string | null {
  const hash = window.location.hash;
  if (!hash.startsWith('#')) return null;
  const params = new URLSearchParams(hash.slice(1));
  const key = params.get('key');
  if (key === null) return null;
  params.delete('key');
  const rest = params.toString();
  history.replaceState(history.state, '', window.location.pathname + window.location.search + (rest ? `#${rest}` : ''));
  return key.trim() || null;
}
