import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../log.js';
import type { Context } from './context.js';

/**
 * One `debug` line per GraphQL request over HTTP: operation name and type,
 * who asked (tenant and key ids, or `root`), error count and duration.
 * Never variables, documents or headers: those may carry payloads and keys.
 */
export function requestLogPlugin(log: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, operation, errors, contextValue }) {
          const { principal } = contextValue;
          log.debug('graphql request', {
            operationName: operationName ?? null,
            operationType: operation?.operation ?? null,
            principal: principal.kind,
            tenantId: principal.kind === 'key' ? principal.tenantId : undefined,
            keyId: principal.kind === 'key' ? principal.keyId : undefined,
            errors: errors?.length ?? 0,
            ms: Math.round(performance.now() - started),
          });
        },
      };
    },
  };
}
