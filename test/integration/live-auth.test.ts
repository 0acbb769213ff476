import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { wsClient } from '../helpers/graphql.js';

const app = await startTestApp({ label: 'live_auth' });

const REVOKE = 'mutation($id: ID!) { apiKeyRevoke(input: {id: $id}) { userErrors { code } } }';

/** Resolves once the server acknowledged connection_init. */
function connected(client: ReturnType<typeof wsClient>): Promise<void> {
  return new Promise((resolve, reject) => {
    client.client.on('connected', () => resolve());
    client.closed.then((e) => reject(new Error(`closed ${e.code} ${e.reason}`)));
  });
}

test('a socket without a key is closed with 4401', async () => {
  const client = wsClient(app.url);
  const { code } = await client.closed;
  assert.equal(code, 4401);
});

test('a socket with an unknown or malformed key is closed with 4401', async () => {
  const unknown = wsClient(app.url, 'hg_not-a-real-key-000000000000000000000000000');
  assert.equal((await unknown.closed).code, 4401);
  const malformed = wsClient(app.url, 'something else');
  assert.equal((await malformed.closed).code, 4401);
});

test('the root key is refused with 4403: it has no tenant to watch', async () => {
  const client = wsClient(app.url, app.rootKey);
  assert.equal((await client.closed).code, 4403);
});

test('a READ key connects and stays connected', async () => {
  const { adminKey } = await app.createTenant();
  const read = await app.createKey(adminKey, ['READ']);
  const client = wsClient(app.url, read.key);
  await connected(client);
  assert.equal(app.app.services!.live.connections.size >= 1, true);
  await client.dispose();
});

test("revoking a key closes its open sockets with 4401, and only that key's", async () => {
  const { adminKey } = await app.createTenant();
  const victim = await app.createKey(adminKey, ['READ']);
  const other = await app.createKey(adminKey, ['READ']);
  const victimSockets = [wsClient(app.url, victim.key), wsClient(app.url, victim.key)];
  const bystander = wsClient(app.url, other.key);
  await Promise.all([...victimSockets, bystander].map(connected));

  const revoked = await app.gql(REVOKE, { id: victim.id }, adminKey);
  assert.deepEqual(revoked.data.apiKeyRevoke.userErrors, []);
  for (const socket of victimSockets) {
    const { code, reason } = await socket.closed;
    assert.equal(code, 4401);
    assert.match(reason, /revoked/);
  }
  // The bystander is still served.
  const still = await Promise.race([bystander.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 300))]);
  assert.equal(still, 'open');
  await bystander.dispose();
  // And the revoked key cannot come back.
  assert.equal((await wsClient(app.url, victim.key).closed).code, 4401);
});
