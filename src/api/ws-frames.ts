import type { WebSocket } from 'ws';

/** Message types only a graphql-transport-ws server may send (unknown types graphql-ws refuses with 4400 itself). */
const SERVER_TYPES = new Set(['connection_ack', 'next', 'error']);

/**
 * graphql-ws 6 throws on a well-formed message of a server-only type
 * (`next`, `error`, `connection_ack`) and its ws adapter then closes with
 * 4500; such a frame is the client's mistake, so it closes with 4400 here
 * before graphql-ws sees it. Anything else goes through unchanged.
 */
export function refuseServerFrames(socket: WebSocket): WebSocket {
  const emit = socket.emit.bind(socket);
  socket.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'message' && serverOnly(args[0])) {
      socket.close(4400, 'Invalid message received');
      return true;
    }
    return emit(event, ...args);
  }) as WebSocket['emit'];
  return socket;
}

function serverOnly(data: unknown): boolean {
  let message: unknown;
  try {
    message = JSON.parse(String(data));
  } catch {
    return false; // graphql-ws closes with 4400 itself
  }
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && SERVER_TYPES.has(type);
}
