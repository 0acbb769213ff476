import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { formatBytes } from './query-limits.js';

/**
 * The cap on one serialized answer (HOOKGRAPH_MAX_RESPONSE_BYTES): the cost
 * rules refuse operations estimated above it before they run; an answer that
 * still turns out larger (estimates are estimates) is replaced by one
 * RESPONSE_TOO_LARGE error instead of being sent.
 */

/** Serialized size of `text` in UTF-8 when it may be over `max`, or 0 when it is certainly within. */
function overBy(text: string, max: number): number {
  if (text.length * 3 <= max) return 0; // UTF-8 needs at most 3 bytes per UTF-16 unit
  const bytes = text.length > max ? text.length : Buffer.byteLength(text);
  return bytes > max ? bytes : 0;
}

export function responseTooLarge(bytes: number, max: number, mutation: boolean): GraphQLFormattedError {
  return {
    message:
      `The answer is about ${formatBytes(bytes)}, more than the ${formatBytes(max)} limit; ask for smaller pages (\`first\`) or fewer large fields.` +
      (mutation ? ' The mutation was applied: read its result with a smaller query.' : ''),
    extensions: { code: 'RESPONSE_TOO_LARGE', maxBytes: max },
  };
}

/** The error to send instead of `result` when its serialized form exceeds `max`, else undefined. */
export function checkResponseSize(result: unknown, max: number, mutation: boolean): GraphQLFormattedError | undefined {
  const bytes = overBy(JSON.stringify(result) ?? '', max);
  return bytes ? responseTooLarge(bytes, max, mutation) : undefined;
}

/** Applies the cap to Apollo's single (non-incremental) answers. */
export function responseSizeCap(max: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation }) {
          if (response.body.kind !== 'single') return;
          const error = checkResponseSize(response.body.singleResult, max, operation?.operation === 'mutation');
          if (error) response.body.singleResult = { errors: [error] };
        },
      };
    },
  };
}
