import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

/**
 * Listens on a free loopback port; the server is closed (idempotently) when
 * the test file ends, also when a test fails before closing it.
 */
export async function listenForTest(server: http.Server): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  after(close);
  return { port, close };
}
