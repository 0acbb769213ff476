import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

/** POSTs one GraphQL operation to `baseUrl/graphql`, as a client would. */
export async function gql<T = any>(baseUrl: string, query: string, variables?: Record<string, unknown>, key?: string): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/** The first error code of a response, or undefined. */
export function errorCode(response: GraphQLResponse): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}

export interface Subscription<T> {
  /** Resolves with the next value, or rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<T>;
  /** Values received so far and not yet taken by next(). */
  readonly buffered: T[];
  /** Resolves when the server ends the subscription or the socket closes; carries the error, if any. */
  readonly ended: Promise<unknown>;
  dispose(): void;
}

export interface WsClient {
  client: Client;
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): Subscription<T>;
  /** Close event of the socket (code, reason), once it closes. */
  closed: Promise<{ code: number; reason: string }>;
  dispose(): Promise<void>;
}

/** A graphql-ws client on `baseUrl/graphql`, authenticated with `key` in connection_init. */
export function wsClient(baseUrl: string, key?: string): WsClient {
  let resolveClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url: baseUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    retryAttempts: 0,
    lazy: false,
    // Sockets closed on purpose (auth failures, revocation) are asserted through `closed`.
    onNonLazyError: () => undefined,
    on: { closed: (event) => resolveClosed({ code: (event as CloseEvent).code, reason: String((event as CloseEvent).reason) }) },
  });
  return {
    client,
    closed,
    subscribe<T>(query: string, variables?: Record<string, unknown>): Subscription<T> {
      const buffered: T[] = [];
      const waiters: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
      let finish!: (value: unknown) => void;
      const ended = new Promise<unknown>((resolve) => (finish = resolve));
      const unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            const value = (result.errors ? { errors: result.errors, data: result.data } : result.data) as T;
            const waiter = waiters.shift();
            if (waiter) waiter.resolve(value);
            else buffered.push(value);
          },
          error: (error) => {
            for (const waiter of waiters.splice(0)) waiter.reject(error);
            finish(error);
          },
          complete: () => finish(undefined),
        },
      );
      return {
        buffered,
        ended,
        next(timeoutMs = 5000) {
          if (buffered.length) return Promise.resolve(buffered.shift()!);
          return new Promise<T>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no subscription value within ${timeoutMs}ms`)), timeoutMs);
            waiters.push({
              resolve: (v) => (clearTimeout(timer), resolve(v)),
              reject: (e) => (clearTimeout(timer), reject(e)),
            });
          });
        },
        dispose: unsubscribe,
      };
    },
    async dispose() {
      await client.dispose();
    },
  };
}
