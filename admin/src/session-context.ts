import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Live } from './live';

/** What every page needs: the signed-in caller, GraphQL over HTTP and the live connection. */
export interface Session {
  key: string;
  viewer: Viewer;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  live: Live;
  /** Ends the session; `reason` is shown on the sign-in screen. */
  signOut(reason?: string): void;
}

export interface Viewer {
  tenant: { id: string; name: string } | null;
  apiKey: { id: string; name: string; prefix: string } | null;
  scopes: string[];
  root: boolean;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}
