import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startTestApp } from '../helpers/app.js';
import { casesFor, operations, post, problemWith, publishedSchema, refused, rowCounter, type IdPool } from '../helpers/fuzz.js';

// Production settings: answers must not carry stacks or internal messages. No worker: row counts change only through requests.
const app = await startTestApp({ label: 'fuzz_ops', role: 'api', env: { NODE_ENV: 'production' } });
/** Cases per operation; HOOKGRAPH_FUZZ_RUNS raises it for a longer local run. */
const RUNS = Number(process.env.HOOKGRAPH_FUZZ_RUNS ?? 100);
const SEED = 1313;

async function fixtures(adminKey: string) {
  const ok = async (query: string, variables: Record<string, unknown>) => {
    const result = await app.gql(query, variables, adminKey);
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const payload = Object.values(result.data!)[0] as { userErrors: unknown[] } & Record<string, any>;
    assert.deepEqual(payload.userErrors, []);
    return payload;
  };
  await ok('mutation($i: EventTypeCreateInput!) { eventTypeCreate(input: $i) { userErrors { message } } }', {
    i: { name: 'order.created', schema: { type: 'object', properties: { amount: { type: 'number' } } } },
  });
  const sub = await ok('mutation($i: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $i) { webhookSubscription { id } userErrors { message } } }', {
    i: { url: 'http://127.0.0.1:9/hook', eventTypes: ['order.*'] },
  });
  const event = await ok('mutation($i: EventPublishInput!) { eventPublish(input: $i) { event { id deliveries { nodes { id } } } userErrors { message } } }', {
    i: { eventType: 'order.created', payload: { amount: 1 } },
  });
  const key = await app.createKey(adminKey, ['READ'], 'victim');
  return {
    ids: [sub.webhookSubscription.id, event.event.id, event.event.deliveries.nodes[0].id, key.id],
    readKey: key.key,
  };
}

const root = { rootKey: app.rootKey };
const a = await app.createTenant('Tenant A');
const b = await app.createTenant('Tenant B');
const own = await fixtures(a.adminKey);
const other = await fixtures(b.adminKey);
const ids: IdPool = {
  own: own.ids,
  other: other.ids,
  names: ['order.created', 'order.*', 'Tenant A'],
  good: {
    eventType: ['order.created'],
    eventTypes: [['order.*'], ['order.created', '*']],
    name: ['fuzz.case', 'Fuzz name'],
    url: ['http://127.0.0.1:9/fuzz'],
    payload: [{ amount: 1 }, { amount: 2, items: [{ sku: 'a' }] }],
    schema: [{ type: 'object', properties: { amount: { type: 'number' } } }],
    filter: [{ 'data.amount': { $gte: 1 } }],
    headers: [{ 'x-fuzz': 'yes' }],
    metadata: [{ team: 'fuzz' }],
    description: ['a description'],
    idempotencyKey: ['fuzz-key'],
    scopes: [['READ'], ['PUBLISH', 'READ']],
    id: own.ids,
    webhookSubscriptionId: [own.ids[0]],
    events: [[{ eventType: 'order.created', payload: { amount: 1 } }]],
  },
};
const keys = fc.oneof(
  { weight: 8, arbitrary: fc.constant(a.adminKey) },
  { weight: 1, arbitrary: fc.constantFrom(root.rootKey, own.readKey, undefined, 'hg_garbage', 'hgroot_', 'x'.repeat(5000)) },
);

const schema = publishedSchema();
const counter = await rowCounter(app.db.url);

test('every operation of the schema answers hostile input with a client error, never a 5xx, a stack, SQL or a partial write', async () => {
  const failures = new Map<string, string>();
  let cases = 0;
  let baseline = await counter.counts();
  for (const op of operations(schema)) {
    await fc.assert(
      fc.asyncProperty(casesFor(op, ids), keys, async (c, key) => {
        cases++;
        const answer = await post(app.url, c.body, key);
        const problem = problemWith(answer);
        const label = `${op.field.name}: ${problem?.replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 160)}`;
        if (problem && !failures.has(label)) failures.set(label, c.body.slice(0, 400));
        const after = await counter.counts();
        if (refused(answer, op.field.name)) {
          try {
            assert.deepEqual(after, baseline);
          } catch {
            failures.set(`${op.field.name}: rows changed although the answer was ${answer.text.slice(0, 200)}`, c.body.slice(0, 400));
          }
        }
        baseline = after;
      }),
      // An operation without arguments varies only in its key and form.
      { seed: SEED, numRuns: op.field.args.length ? RUNS : 12 },
    );
  }
  process.stderr.write(`fuzz: ${cases} hostile requests over ${operations(schema).length} operations\n`);
  assert.deepEqual([...failures.entries()], []);
  // The server still answers a normal request.
  const viewer = await app.gql('{ viewer { __typename } }', {}, a.adminKey);
  assert.equal(viewer.errors, undefined);
  await counter.close();
});
