import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startTestApp } from '../helpers/app.js';
import { Deep, toJson } from '../helpers/fuzz.js';
import { wsClient } from '../helpers/graphql.js';

// Malformed graphql-ws traffic: protocol violations close with a 44xx code (or a normal close), never 4500, and the server keeps serving.
const app = await startTestApp({ label: 'fuzz_ws', role: 'api', env: { NODE_ENV: 'production' } });
const { adminKey } = await app.createTenant('Tenant A');
const wsUrl = app.url.replace(/^http/, 'ws') + '/graphql';

type Frame = string | Buffer;
interface Outcome {
  /** Close code, or 'open' when the socket still answered a ping after the frames. */
  end: number | 'open';
  messages: string[];
}

/**
 * Opens a socket, optionally acknowledges it with the admin key, sends `frames`,
 * then a ping: the outcome is the close code, or 'open' once the pong arrives
 * (or, with `until`, once a message satisfies it: graphql-ws handles frames concurrently).
 */
function session(frames: Frame[], init = true, until?: (message: { id?: string; type: string }) => boolean): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    const messages: string[] = [];
    let done = false;
    const finish = (end: Outcome['end']) => {
      if (done) return;
      done = true;
      resolve({ end, messages });
      if (end === 'open') socket.close(1000);
    };
    const sendAll = () => {
      for (const frame of frames) socket.send(frame);
      socket.send(JSON.stringify({ type: 'ping', payload: { probe: true } }));
    };
    socket.on('open', () => {
      if (init) socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${adminKey}` } }));
      else sendAll();
    });
    socket.on('message', (data) => {
      const text = String(data);
      messages.push(text);
      const message = JSON.parse(text);
      if (message.type === 'connection_ack' && init) sendAll();
      if (until ? until(message) : message.type === 'pong' && message.payload?.probe) finish('open');
    });
    socket.on('close', (code) => finish(code));
    socket.on('error', (error) => (done ? undefined : reject(error)));
  });
}

function assertHandled(outcome: Outcome, what: string) {
  if (outcome.end !== 'open') {
    assert.ok((outcome.end >= 4400 && outcome.end < 4500) || outcome.end === 1000 || outcome.end === 1009, `${what}: closed with ${outcome.end}`);
  }
  for (const message of outcome.messages) {
    assert.doesNotMatch(message, /INTERNAL_SERVER_ERROR|\n\s+at |\.js:\d+:\d+/, `${what}: ${message.slice(0, 300)}`);
  }
}

async function assertStillServing() {
  const client = wsClient(app.url, adminKey);
  // An operation over a fresh socket, answered through graphql-ws end to end.
  const sub = client.subscribe<{ viewer: { __typename: string } }>('{ viewer { __typename } }');
  assert.deepEqual(await sub.next(30_000), { viewer: { __typename: 'Viewer' } });
  await client.dispose();
  const http = await app.gql('{ viewer { __typename } }', {}, adminKey);
  assert.equal(http.errors, undefined);
}

const subscribe = (id: unknown, payload: unknown) => toJson({ id, type: 'subscribe', payload });

test('malformed frames close with a 44xx code, never 4500', async () => {
  const cases: [string, Frame[], boolean, number | 'open'][] = [
    ['non-JSON text', ['hello'], true, 4400],
    ['binary garbage', [Buffer.from([0xff, 0xfe, 0x00])], true, 4400],
    ['JSON that is not a message', ['[1,2]'], true, 4400],
    ['unknown type', ['{"type":"nope"}'], true, 4400],
    ['subscribe before connection_init', [subscribe('1', { query: '{ viewer { __typename } }' })], false, 4401],
    ['second connection_init', [JSON.stringify({ type: 'connection_init' })], true, 4429],
    ['duplicate subscription id', [subscribe('1', { query: 'subscription { eventPublished { id } }' }), subscribe('1', { query: 'subscription { eventPublished { id } }' })], true, 4409],
    ['frame over 1 MiB', ['x'.repeat(1_100_000)], true, 1009],
    ['subscribe without a query', [subscribe('1', {})], true, 4400],
    ['subscribe with a numeric id', [subscribe(1, { query: '{ viewer { __typename } }' })], true, 4400],
    ['subscribe with string variables', [subscribe('1', { query: '{ viewer { __typename } }', variables: 'x' })], true, 4400],
    ['complete of an unknown id', ['{"type":"complete","id":"nope"}'], true, 'open'],
    ['unexpected pong', ['{"type":"pong","payload":{"a":1}}'], true, 'open'],
    ['server-only message from the client', ['{"type":"next","id":"1","payload":{}}'], true, 4400],
  ];
  for (const [what, frames, init, expected] of cases) {
    const outcome = await session(frames, init);
    assertHandled(outcome, what);
    assert.equal(outcome.end, expected, what);
  }
  await assertStillServing();
});

test('hostile connection_init payloads are refused with 4400/4401/4403, never 4500', async () => {
  const payloads = [{ authorization: 123 }, { authorization: { a: 1 } }, { authorization: ['Bearer x'] }, { authorization: 'Bearer \u0000' }, { authorization: `Bearer ${'x'.repeat(500_000)}` }, 'str', [1], null, { authorization: app.rootKey }];
  for (const payload of payloads) {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    const code = await new Promise<number>((resolve) => {
      socket.on('open', () => socket.send(toJson({ type: 'connection_init', payload })));
      socket.on('close', (c) => resolve(c));
    });
    assert.ok([4400, 4401, 4403].includes(code), `${JSON.stringify(payload)?.slice(0, 60)}: ${code}`);
  }
  await assertStillServing();
});

test('hostile subscribe payloads answer with errors, never INTERNAL_SERVER_ERROR or 4500', async () => {
  const query = 'subscription($f: DeliveryFilter, $s: DateTime) { deliveryUpdated(filter: $f, since: $s) { id } }';
  const cases: unknown[] = [
    { query: '{ viewer {' },
    { query: `{ viewer ${'{ a '.repeat(5_000)} }` },
    { query: 'mutation { tenantCreate(input: {name: "x"}) { userErrors { code } } }' },
    { query, variables: { f: { status: 'NOPE' } } },
    { query, variables: { s: '\u0000' } },
    { query, variables: { f: { webhookSubscriptionId: 'not-a-uuid', eventType: '\uD800' } } },
    { query: 'subscription($t: [String!]) { eventPublished(eventTypes: $t) { id } }', variables: { t: ['a\u0000'] } },
    { query: 'subscription($t: [String!]) { eventPublished(eventTypes: $t) { id } }', variables: { t: Array.from({ length: 20_000 }, () => 'order.*') } },
    { query: 'subscription($id: ID) { webhookSubscriptionUpdated(id: $id) { id } }', variables: { id: 'x\uDC00' } },
    { query: 'subscription($id: ID) { webhookSubscriptionUpdated(id: $id) { id } }', variables: JSON.parse('{"__proto__":{"id":"x"}}') },
    { query: 'query($j: JSON) { viewer { __typename } }', variables: { j: new Deep(100_000, 'array') } },
    { query: `query(${Array.from({ length: 60 }, (_, i) => `$v${i}: Int`).join(', ')}) { viewer { __typename } }`, variables: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`v${i}`, 'x'])) },
    { query: '{ viewer { __typename } }', operationName: 'Missing' },
    { query: 'subscription { eventPublished { id } } subscription { eventPublished { id } }' },
  ];
  // Each case ends when s1 is answered (error or complete) or, for a valid live subscription, when s2 (sent after it) completes.
  const probe = subscribe('s2', { query: '{ viewer { __typename } }' });
  const answered = (m: { id?: string; type: string }) => (m.id === 's1' && (m.type === 'error' || m.type === 'complete')) || (m.id === 's2' && m.type === 'complete');
  for (const payload of cases) {
    const outcome = await session([subscribe('s1', payload), probe], true, answered);
    assertHandled(outcome, toJson(payload).slice(0, 200));
  }
  await assertStillServing();
});

test('generated frames never close with 4500', async () => {
  const frame = fc.oneof(
    fc.json(),
    fc.string(),
    fc
      .record(
        {
          type: fc.constantFrom('connection_init', 'subscribe', 'complete', 'ping', 'pong', 'next', 'error', 'connection_ack', 'x'),
          id: fc.oneof(fc.constant('f1'), fc.string({ maxLength: 5 }), fc.integer()),
          payload: fc.oneof(fc.jsonValue(), fc.record({ query: fc.oneof(fc.constant('subscription { eventPublished { id } }'), fc.string()), variables: fc.jsonValue() })),
        },
        { requiredKeys: ['type'] },
      )
      .map((m) => JSON.stringify(m)),
  );
  let sessions = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 3 }), fc.boolean(), async (frames, init) => {
      sessions++;
      assertHandled(await session(frames, init), frames.join(' ').slice(0, 200));
    }),
    { seed: 1313, numRuns: 150 },
  );
  process.stderr.write(`fuzz-ws: ${sessions} generated sessions\n`);
  await assertStillServing();
});
