import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

export interface FreshContextOptions<C> {
  /** A new context for one event: graphql-js would reuse the subscription's context (DataLoaders, identity map) for every event. */
  fresh: (context: C) => C;
  /**
   * Who is asking, as far as results can differ (tenant, scopes). Subscribers
   * with the same key, operation and variables get one shared execution per
   * event: a hundred admin UIs watching the same stream cost one execution.
   */
  audience: (context: C) => string;
}

/** Executions of one event (its root object) by audience + operation + variables; gone with the event. */
const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

/**
 * graphql-js `subscribe`, except that every event is executed with a new
 * context, and identical executions of the same event are shared.
 */
export function subscribeWithFreshContext<C>({ fresh, audience }: FreshContextOptions<C>) {
  return async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const iterator = stream[Symbol.asyncIterator]();
    const context = args.contextValue as C;
    const key = [audience(context), args.document.loc?.source.body ?? '', args.operationName ?? '', JSON.stringify(args.variableValues ?? {})].join('\u0000');
    const run = (rootValue: unknown) => Promise.resolve(execute({ ...args, rootValue, contextValue: fresh(context) }));
    const executeShared = (rootValue: unknown): Promise<ExecutionResult> => {
      if (typeof rootValue !== 'object' || rootValue === null || !args.document.loc) return run(rootValue);
      let byKey = executions.get(rootValue);
      if (!byKey) executions.set(rootValue, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = run(rootValue)));
      return result;
    };
    const mapped: AsyncGenerator<ExecutionResult> = {
      async next() {
        const step = await iterator.next();
        if (step.done) return { value: undefined, done: true };
        return { value: await executeShared(step.value), done: false };
      },
      async return() {
        // Ends the source at once, even while next() waits for a message.
        await iterator.return?.();
        return { value: undefined, done: true };
      },
      async throw(error) {
        await iterator.return?.();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
      async [Symbol.asyncDispose]() {
        await iterator.return?.();
      },
    };
    return mapped;
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
