import { createClient, type Client } from 'graphql-ws';

/** connecting: first connection; live: connected; reconnecting: lost, retrying; rejected: key refused. */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'rejected';

export interface Live {
  /** Runs a GraphQL subscription; returns a function that stops it. */
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void, onError?: (message: string) => void): () => void;
  /** Called after every reconnection: updates missed while offline must be fetched again. */
  onResync(listener: () => void): () => void;
  dispose(): void;
}

const UNAUTHORIZED = 4401;
const FORBIDDEN = 4403;

/** One graphql-ws connection per signed-in tab, on the same origin's /graphql, retried forever with backoff. */
export function createLive(key: string, onState: (state: LiveState) => void): Live {
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
  const resyncListeners = new Set<() => void>();
  let everConnected = false;
  let rejected = false;
  let disposed = false;
  const setState = (state: LiveState) => !disposed && onState(state);
  const isRejection = (event: unknown) => {
    const code = (event as CloseEvent | undefined)?.code;
    return code === UNAUTHORIZED || code === FORBIDDEN;
  };
  const markRejected = () => {
    if (rejected) return;
    rejected = true;
    setState('rejected');
  };
  const client: Client = createClient({
    url,
    connectionParams: { authorization: `Bearer ${key}` },
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    // 4401 never reaches shouldRetry (graphql-ws gives up on it by itself); `closed` and `error` catch it.
    shouldRetry: (event) => !isRejection(event),
    retryWait: async (retries) => {
      const delay = Math.min(10_000, 500 * 2 ** retries) * (0.8 + Math.random() * 0.4);
      await new Promise((resolve) => setTimeout(resolve, delay));
    },
    on: {
      connecting: () => setState(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        setState('live');
        if (everConnected) for (const listener of resyncListeners) listener();
        everConnected = true;
      },
      closed: (event) => {
        if (isRejection(event)) markRejected();
        else if (!rejected) setState(everConnected ? 'reconnecting' : 'connecting');
      },
    },
  });
  return {
    subscribe(query, variables, onData, onError) {
      let stopped = false;
      let unsubscribe = () => {};
      let timer: ReturnType<typeof setTimeout> | undefined;
      const start = () => {
        unsubscribe = client.subscribe(
          { query, variables },
          {
            next: (result) => {
              if (result.data) onData(result.data as never);
              else if (result.errors?.length) onError?.(result.errors[0]!.message);
            },
            error: (error) => {
              if (Array.isArray(error)) onError?.(error[0]?.message ?? 'subscription failed');
              else if (isRejection(error)) markRejected();
              // A closure graphql-ws treats as fatal (no retry of its own): subscribe again, which reconnects.
              else if (!stopped) timer = setTimeout(start, 2000);
            },
            complete: () => {},
          },
        );
      };
      start();
      return () => {
        stopped = true;
        clearTimeout(timer);
        unsubscribe();
      };
    },
    onResync(listener) {
      resyncListeners.add(listener);
      return () => resyncListeners.delete(listener);
    },
    dispose: () => {
      disposed = true;
      void client.dispose();
    },
  };
}
