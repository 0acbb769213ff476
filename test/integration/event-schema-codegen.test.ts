import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { generate } from '@graphql-codegen/cli';
import ts from 'typescript';
import { startTestApp } from '../helpers/app.js';
import { startReceiver } from '../helpers/receiver.js';
import { eventType, publish, subscription, tenant } from '../helpers/webhooks.js';

/*
 * What the README promises receivers: generate types for a webhook handler
 * from `eventSchema.sdl` and the subscription's payload query with
 * @graphql-codegen/cli, and a handler written against them type-checks —
 * and one that reads a field the query does not select does not; the data
 * of a real delivery is exactly what the generated type describes.
 */
const app = await startTestApp({ label: 'event-schema-codegen' });
const t = await tenant(app);
await eventType(t, 'order.created', {
  type: 'object',
  required: ['orderId', 'total'],
  properties: {
    orderId: { type: 'string' },
    total: { type: 'number' },
    note: { type: 'string' },
    customer: { type: 'object', properties: { email: { type: 'string' }, name: { type: 'string' } } },
  },
});
const ORDER = { orderId: 'o-1', total: 42.5, note: 'leave at the door', customer: { email: 'a@b.c', name: 'Ada' } };

const PAYLOAD_QUERY = 'subscription OrderCreatedWebhook { orderCreated { orderId total customer { email } } }';

function typeErrors(dir: string, handler: string): string[] {
  const file = path.join(dir, 'handler.ts');
  fs.writeFileSync(file, handler);
  const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

test('receiver types generated from eventSchema.sdl type-check a handler of the shaped data', { timeout: 60_000 }, async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  await subscription(t, { url: receiver.url, eventTypes: ['order.created'], payloadQuery: PAYLOAD_QUERY });
  const event = await publish(t, 'order.created', ORDER);
  const sdl: string = (await app.gql('{ eventSchema { sdl } }', {}, t.key)).data.eventSchema.sdl;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-codegen-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'event-schema.graphql'), sdl);
  fs.writeFileSync(path.join(dir, 'webhook.graphql'), PAYLOAD_QUERY);
  await generate(
    {
      schema: path.join(dir, 'event-schema.graphql'),
      documents: path.join(dir, 'webhook.graphql'),
      generates: { [path.join(dir, 'webhook-types.ts')]: { plugins: ['typescript', 'typescript-operations'], config: { scalars: { JSON: 'unknown' } } } },
      silent: true,
    },
    true,
  );
  const generated = fs.readFileSync(path.join(dir, 'webhook-types.ts'), 'utf8');
  assert.match(generated, /export type OrderCreatedWebhookSubscription = /);

  const handler = (body: string) => `import type { OrderCreatedWebhookSubscription } from './webhook-types.js';
type Data = OrderCreatedWebhookSubscription['orderCreated'];
export function handle(event: { id: string; type: string; data: Data }): string {
  ${body}
}
`;
  assert.deepEqual(typeErrors(dir, handler('return `${event.data.orderId}: ${event.data.total.toFixed(2)} for ${event.data.customer?.email ?? "nobody"}`;')), []);
  // In the event schema but not selected by the query, so not in the generated type: the handler does not compile.
  assert.match(sdl, /note: String/);
  const errors = typeErrors(dir, handler('return String((event.data as { orderId: string }).orderId) + event.data.note;'));
  assert.ok(errors.some((message) => /Property 'note' does not exist/.test(message)), errors.join('\n'));

  // The delivery carries exactly the selected fields, and its data, as a literal, satisfies the generated type (excess properties would not).
  const [request] = await receiver.waitFor(1);
  const delivered = JSON.parse(request.body);
  assert.equal(delivered.id, event.id);
  assert.deepEqual(delivered.data, { orderId: 'o-1', total: 42.5, customer: { email: 'a@b.c' } });
  assert.deepEqual(Object.keys(delivered.data), ['orderId', 'total', 'customer']);
  const satisfies = (data: unknown) => `import type { OrderCreatedWebhookSubscription } from './webhook-types.js';
export const data = ${JSON.stringify(data)} satisfies OrderCreatedWebhookSubscription['orderCreated'];
`;
  assert.deepEqual(typeErrors(dir, satisfies(delivered.data)), []);
  // Data with a field the query does not select does not: the check can tell.
  const unselected = typeErrors(dir, satisfies({ ...delivered.data, note: ORDER.note }));
  assert.ok(unselected.some((message) => /'"note"' does not exist/.test(message)), unselected.join('\n'));
});
