import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * graphql-js `subscribe`, except that every event is executed with a new
 * context from `fresh(context)`. graphql-js reuses one context for the whole
 * subscription, so per-request DataLoaders and the identity map would serve
 * the first event's rows forever; each update must read the database as it is.
 */
export function subscribeWithFreshContext<C>(fresh: (context: C) => C) {
  return async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const iterator = stream[Symbol.asyncIterator]();
    const mapped: AsyncGenerator<ExecutionResult> = {
      async next() {
        const step = await iterator.next();
        if (step.done) return { value: undefined, done: true };
        const value = await execute({ ...args, rootValue: step.value, contextValue: fresh(args.contextValue as C) });
        return { value, done: false };
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
