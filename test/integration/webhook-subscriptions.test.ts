import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validSigningSecrets } from '../../src/domain/subscription-secrets.js';
import { startTestApp } from '../helpers/app.js';
import { errorCode } from '../helpers/graphql.js';

const FIELDS = 'id url eventTypes description filter headers metadata status disabledReason rateLimitPerSecond ordered secretRotationExpiresAt lastSuccessAt failingSince createdAt updatedAt';
const ERRORS = 'userErrors { field message code }';
const CREATE = `mutation($input: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $input) { webhookSubscription { ${FIELDS} } secret warnings { field code message } ${ERRORS} } }`;
const UPDATE = `mutation($input: WebhookSubscriptionUpdateInput!) { webhookSubscriptionUpdate(input: $input) { webhookSubscription { ${FIELDS} } warnings { field code } ${ERRORS} } }`;
const DELETE = `mutation($input: WebhookSubscriptionDeleteInput!) { webhookSubscriptionDelete(input: $input) { deletedWebhookSubscriptionId ${ERRORS} } }`;
const ROTATE = `mutation($input: WebhookSubscriptionRotateSecretInput!) { webhookSubscriptionRotateSecret(input: $input) { webhookSubscription { id secretRotationExpiresAt } secret ${ERRORS} } }`;
const ONE = `query($id: ID!) { webhookSubscription(id: $id) { ${FIELDS} } }`;
const LIST = `query($first: Int, $after: String, $statuses: [WebhookSubscriptionStatus!], $eventType: String) {
  webhookSubscriptions(first: $first, after: $after, statuses: $statuses, eventType: $eventType) { nodes { id url eventTypes status } pageInfo { hasNextPage endCursor } } }`;

const app = await startTestApp({ label: 'subscriptions' });
const { adminKey: admin, tenantId } = await app.createTenant('A');
const { adminKey: other } = await app.createTenant('B');
const target = 'http://127.0.0.1:9/hooks';

await app.gql('mutation { eventTypeCreate(input: {name: "order.created"}) { userErrors { code } } }', {}, admin);

const create = (input: Record<string, unknown>, key = admin) => app.gql(CREATE, { input: { url: target, eventTypes: ['order.created'], ...input } }, key).then((r) => r.data!.webhookSubscriptionCreate);

test('create returns the secret once; queries never show it', async () => {
  const created = await create({
    eventTypes: ['order.*', 'order.created', 'order.created'],
    description: 'orders',
    filter: { 'data.amount': { $gte: 100 } },
    headers: { 'X-Api-Key': 'abc' },
    metadata: { team: 'billing' },
    rateLimitPerSecond: 50,
    ordered: true,
  });
  assert.deepEqual(created.userErrors, []);
  assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const sub = created.webhookSubscription;
  assert.deepEqual(sub.eventTypes, ['order.*', 'order.created']);
  assert.deepEqual(sub.headers, { 'x-api-key': '********' });
  assert.deepEqual(sub.filter, { 'data.amount': { $gte: 100 } });
  assert.equal(sub.status, 'ENABLED');
  assert.equal(sub.rateLimitPerSecond, 50);
  assert.equal(sub.ordered, true);
  assert.deepEqual(created.warnings, []);
  const read = await app.gql(ONE, { id: sub.id }, admin);
  assert.deepEqual(read.data.webhookSubscription, sub);
  assert.ok(!JSON.stringify(read).includes(created.secret));
  const { rows } = await app.app.pool.query('select secret_encrypted from webhook_subscription where id = $1', [sub.id]);
  assert.ok(!rows[0].secret_encrypted.includes(created.secret.slice(6, 20)), 'stored encrypted');

  const supplied = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  assert.equal((await create({ secret: supplied })).secret, supplied);
});

test('patterns that match no event type are accepted with a warning', async () => {
  const created = await create({ eventTypes: ['order.created', 'ordr.*', 'invoice.paid'] });
  assert.deepEqual(created.userErrors, []);
  assert.deepEqual(
    created.warnings.map((w: { field: string[]; code: string }) => [w.field.join('.'), w.code]),
    [
      ['input.eventTypes.1', 'UNMATCHED_PATTERN'],
      ['input.eventTypes.2', 'UNMATCHED_PATTERN'],
    ],
  );
});

test('each userError code of create, naming the field, changing nothing', async () => {
  const before = (await app.gql(LIST, { first: 100 }, admin)).data.webhookSubscriptions.nodes.length;
  const cases: [Record<string, unknown>, string, string][] = [
    [{ url: '' }, 'REQUIRED', 'input.url'],
    [{ url: 'not a url' }, 'INVALID_URL', 'input.url'],
    [{ eventTypes: [] }, 'REQUIRED', 'input.eventTypes'],
    [{ eventTypes: ['order.created', 'Order.*'] }, 'INVALID_PATTERN', 'input.eventTypes.1'],
    [{ eventTypes: Array.from({ length: 101 }, (_, i) => `t.e${i}`) }, 'TOO_LARGE', 'input.eventTypes'],
    [{ filter: { $or: [{ a: 1 }, { b: { $within: [1] } }] } }, 'INVALID_FILTER', 'input.filter.$or.1.b.$within'],
    [{ filter: { s: { $regex: '(a)\\1' } } }, 'INVALID_FILTER', 'input.filter.s.$regex'],
    [{ headers: { 'webhook-signature': 'x' } }, 'FORBIDDEN_HEADER', 'input.headers.webhook-signature'],
    [{ headers: { Host: 'evil' } }, 'FORBIDDEN_HEADER', 'input.headers.Host'],
    [{ headers: { 'transfer-encoding': 'chunked' } }, 'FORBIDDEN_HEADER', 'input.headers.transfer-encoding'],
    [{ headers: { 'content-length': '1' } }, 'FORBIDDEN_HEADER', 'input.headers.content-length'],
    [{ headers: { 'x-ok': 'a\r\nx-injected: 1' } }, 'INVALID', 'input.headers.x-ok'],
    [{ headers: ['x'] }, 'INVALID', 'input.headers'],
    [{ metadata: { big: 'x'.repeat(17 * 1024) } }, 'TOO_LARGE', 'input.metadata'],
    [{ description: 'x'.repeat(1001) }, 'TOO_LARGE', 'input.description'],
    [{ rateLimitPerSecond: 0 }, 'INVALID', 'input.rateLimitPerSecond'],
    [{ status: 'FAILING_DISABLED' }, 'INVALID', 'input.status'],
    [{ secret: 'whsec_short' }, 'INVALID', 'input.secret'],
  ];
  for (const [input, code, field] of cases) {
    const result = await create(input);
    assert.equal(result.webhookSubscription, null, JSON.stringify(input).slice(0, 80));
    assert.equal(result.secret, null);
    assert.equal(result.userErrors[0].code, code, JSON.stringify(input).slice(0, 80));
    assert.equal(result.userErrors[0].field.join('.'), field, JSON.stringify(input).slice(0, 80));
  }
  const after = (await app.gql(LIST, { first: 100 }, admin)).data.webhookSubscriptions.nodes.length;
  assert.equal(after, before);
});

test('update changes only given fields; status changes and re-enabling', async () => {
  const { webhookSubscription: sub } = await create({ description: 'keep', metadata: { a: 1 } });
  const changed = (await app.gql(UPDATE, { input: { id: sub.id, url: 'http://127.0.0.1:10/x', status: 'DISABLED', rateLimitPerSecond: 5 } }, admin)).data.webhookSubscriptionUpdate;
  assert.deepEqual(changed.userErrors, []);
  const now = changed.webhookSubscription;
  assert.equal(now.url, 'http://127.0.0.1:10/x');
  assert.equal(now.status, 'DISABLED');
  assert.ok(now.disabledReason);
  assert.equal(now.description, 'keep');
  assert.deepEqual(now.metadata, { a: 1 });
  const cleared = (await app.gql(UPDATE, { input: { id: sub.id, description: null, metadata: null, rateLimitPerSecond: null, status: 'ENABLED' } }, admin)).data.webhookSubscriptionUpdate.webhookSubscription;
  assert.equal(cleared.description, null);
  assert.equal(cleared.metadata, null);
  assert.equal(cleared.rateLimitPerSecond, null);
  assert.equal(cleared.status, 'ENABLED');
  assert.equal(cleared.disabledReason, null);

  const bad = (await app.gql(UPDATE, { input: { id: sub.id, url: 'ftp://127.0.0.1/x', eventTypes: ['*'] } }, admin)).data.webhookSubscriptionUpdate;
  assert.equal(bad.userErrors[0].code, 'INVALID_URL');
  assert.deepEqual((await app.gql(ONE, { id: sub.id }, admin)).data.webhookSubscription.eventTypes, ['order.created'], 'nothing changed');
  const warned = (await app.gql(UPDATE, { input: { id: sub.id, eventTypes: ['nothing.*'] } }, admin)).data.webhookSubscriptionUpdate;
  assert.equal(warned.warnings[0].code, 'UNMATCHED_PATTERN');
});

test('a status change is announced on the live channel at commit', async () => {
  const { webhookSubscription: sub } = await create({});
  const client = await app.app.pool.connect();
  try {
    const messages: string[] = [];
    client.on('notification', (n) => messages.push(n.payload ?? ''));
    await client.query('listen hookgraph_live');
    await app.gql(UPDATE, { input: { id: sub.id, status: 'DISABLED' } }, admin);
    await app.gql(UPDATE, { input: { id: sub.id, description: 'no status change' } }, admin);
    for (let i = 0; i < 50 && !messages.some((m) => m.includes(sub.id)); i++) await new Promise((r) => setTimeout(r, 20));
    const mine = messages.flatMap((m) => JSON.parse(m)).filter((m: { id: string }) => m.id === sub.id);
    assert.deepEqual(mine, [{ kind: 'webhookSubscription', tenantId, id: sub.id, status: 'DISABLED' }]);
    await client.query('unlisten hookgraph_live');
  } finally {
    client.release();
  }
});

test('secret rotation: both secrets valid during the grace period, the old one gone after', async () => {
  const created = await create({});
  const id = created.webhookSubscription.id;
  const rotated = (await app.gql(ROTATE, { input: { id, gracePeriodSeconds: 3600 } }, admin)).data.webhookSubscriptionRotateSecret;
  assert.deepEqual(rotated.userErrors, []);
  assert.notEqual(rotated.secret, created.secret);
  const expires = new Date(rotated.webhookSubscription.secretRotationExpiresAt).getTime();
  assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 60_000);
  const key = Buffer.from(app.env.HOOKGRAPH_SECRET_KEY, 'hex');
  const row = (await app.app.pool.query(`select id, secret_encrypted as "secretEncrypted", previous_secret_encrypted as "previousSecretEncrypted", previous_secret_expires_at as "previousSecretExpiresAt" from webhook_subscription where id = $1`, [id])).rows[0];
  assert.deepEqual(validSigningSecrets(row, key, new Date()), [rotated.secret, created.secret]);
  assert.deepEqual(validSigningSecrets(row, key, new Date(expires + 1)), [rotated.secret]);

  const immediate = (await app.gql(ROTATE, { input: { id, gracePeriodSeconds: 0 } }, admin)).data.webhookSubscriptionRotateSecret;
  assert.equal(immediate.webhookSubscription.secretRotationExpiresAt, null);
  const row2 = (await app.app.pool.query(`select id, secret_encrypted as "secretEncrypted", previous_secret_encrypted as "previousSecretEncrypted", previous_secret_expires_at as "previousSecretExpiresAt" from webhook_subscription where id = $1`, [id])).rows[0];
  assert.deepEqual(validSigningSecrets(row2, key), [immediate.secret]);

  assert.equal((await app.gql(ROTATE, { input: { id, gracePeriodSeconds: 8 * 86400 } }, admin)).data.webhookSubscriptionRotateSecret.userErrors[0].field.join('.'), 'input.gracePeriodSeconds');
  assert.equal((await app.gql(ROTATE, { input: { id, secret: 'nope' } }, admin)).data.webhookSubscriptionRotateSecret.userErrors[0].field.join('.'), 'input.secret');
});

test('delete removes the subscription', async () => {
  const { webhookSubscription: sub } = await create({});
  const deleted = (await app.gql(DELETE, { input: { id: sub.id } }, admin)).data.webhookSubscriptionDelete;
  assert.equal(deleted.deletedWebhookSubscriptionId, sub.id);
  assert.equal((await app.gql(ONE, { id: sub.id }, admin)).data.webhookSubscription, null);
  assert.equal((await app.gql(DELETE, { input: { id: sub.id } }, admin)).data.webhookSubscriptionDelete.userErrors[0].code, 'NOT_FOUND');
});

test('lists paginate and filter by status and event type', async () => {
  const { adminKey } = await app.createTenant('lists');
  const ids: string[] = [];
  const patterns = [['order.*'], ['*'], ['billing.invoice.paid'], ['*.created'], ['order.created'], ['billing.*']];
  for (const eventTypes of patterns) ids.push((await create({ eventTypes }, adminKey)).webhookSubscription.id);
  await app.gql(UPDATE, { input: { id: ids[1], status: 'DISABLED' } }, adminKey);
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; ; page++) {
    const result: any = await app.gql(LIST, { first: 4, after }, adminKey);
    seen.push(...result.data.webhookSubscriptions.nodes.map((n: { id: string }) => n.id));
    if (!result.data.webhookSubscriptions.pageInfo.hasNextPage) break;
    after = result.data.webhookSubscriptions.pageInfo.endCursor;
  }
  assert.deepEqual(seen, [...ids].reverse());
  const disabled = (await app.gql(LIST, { statuses: ['DISABLED'] }, adminKey)).data.webhookSubscriptions.nodes;
  assert.deepEqual(disabled.map((n: { id: string }) => n.id), [ids[1]]);
  const forOrder = (await app.gql(LIST, { eventType: 'order.created' }, adminKey)).data.webhookSubscriptions.nodes;
  assert.deepEqual(forOrder.map((n: { id: string }) => n.id).sort(), [ids[0], ids[1], ids[3], ids[4]].sort());
  const enabledBilling = (await app.gql(LIST, { eventType: 'billing.invoice.paid', statuses: ['ENABLED'] }, adminKey)).data.webhookSubscriptions.nodes;
  assert.deepEqual(enabledBilling.map((n: { id: string }) => n.id).sort(), [ids[2], ids[5]].sort());
  assert.deepEqual((await app.gql(LIST, { eventType: 'nothing.here' }, adminKey)).data.webhookSubscriptions.nodes.map((n: { id: string }) => n.id), [ids[1]], 'only * matches');
  assert.equal(errorCode(await app.gql(LIST, { eventType: 'Bad Type' }, adminKey)), 'BAD_USER_INPUT');
});

test('another tenant: reads are null, writes NOT_FOUND, nothing changes', async () => {
  const { webhookSubscription: sub } = await create({ description: 'mine' });
  assert.equal((await app.gql(ONE, { id: sub.id }, other)).data.webhookSubscription, null);
  assert.equal((await app.gql(ONE, { id: 'not-a-uuid' }, other)).data.webhookSubscription, null);
  const theirs = (await app.gql(LIST, { first: 100 }, other)).data.webhookSubscriptions.nodes;
  assert.ok(!theirs.some((n: { id: string }) => n.id === sub.id));
  assert.equal((await app.gql(UPDATE, { input: { id: sub.id, description: 'x', status: 'DISABLED' } }, other)).data.webhookSubscriptionUpdate.userErrors[0].code, 'NOT_FOUND');
  assert.equal((await app.gql(DELETE, { input: { id: sub.id } }, other)).data.webhookSubscriptionDelete.userErrors[0].code, 'NOT_FOUND');
  assert.equal((await app.gql(ROTATE, { input: { id: sub.id } }, other)).data.webhookSubscriptionRotateSecret.userErrors[0].code, 'NOT_FOUND');
  const mine = (await app.gql(ONE, { id: sub.id }, admin)).data.webhookSubscription;
  assert.equal(mine.description, 'mine');
  assert.equal(mine.status, 'ENABLED');
  assert.equal(mine.secretRotationExpiresAt, null);
});

test('scopes: READ and ADMIN read, only ADMIN writes', async () => {
  const read = (await app.createKey(admin, ['READ'])).key;
  const publish = (await app.createKey(admin, ['PUBLISH'])).key;
  const { webhookSubscription: sub } = await create({});
  const operations: [string, string, Record<string, unknown>, boolean][] = [
    ['webhookSubscriptions', LIST, {}, false],
    ['webhookSubscription', ONE, { id: sub.id }, false],
    ['webhookSubscriptionCreate', CREATE, { input: { url: target, eventTypes: ['*'] } }, true],
    ['webhookSubscriptionUpdate', UPDATE, { input: { id: sub.id } }, true],
    ['webhookSubscriptionRotateSecret', ROTATE, { input: { id: sub.id } }, true],
    ['webhookSubscriptionDelete', DELETE, { input: { id: sub.id } }, true],
  ];
  for (const [name, query, variables, mutation] of operations) {
    assert.equal(errorCode(await app.gql(query, variables)), 'UNAUTHENTICATED', `${name} without key`);
    assert.equal(errorCode(await app.gql(query, variables, app.rootKey)), 'FORBIDDEN', `${name} with root key`);
    assert.equal(errorCode(await app.gql(query, variables, publish)), 'FORBIDDEN', `${name} with PUBLISH`);
    assert.equal(errorCode(await app.gql(query, variables, read)), mutation ? 'FORBIDDEN' : undefined, `${name} with READ`);
    assert.equal(errorCode(await app.gql(query, variables, admin)), undefined, `${name} with ADMIN`);
  }
});

test('at the smallest HOOKGRAPH_DB_CONNECTIONS, concurrent updates with a payload query all complete', async () => {
  // The ORM pool then has 4 connections: an update that read the event schema on a second one while holding its
  // transaction's would wait forever once 4 of them ran at once.
  const small = await startTestApp({ label: 'subscriptions_small_pool', env: { HOOKGRAPH_DB_CONNECTIONS: '6' } });
  try {
    const { adminKey } = await small.createTenant('Small pool');
    const typed = await small.gql(
      'mutation($input: EventTypeCreateInput!) { eventTypeCreate(input: $input) { userErrors { code } } }',
      { input: { name: 'order.created', schema: { type: 'object', properties: { orderId: { type: 'string' }, note: { type: 'string' } } } } },
      adminKey,
    );
    assert.deepEqual(typed.data!.eventTypeCreate.userErrors, []);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const created = await small.gql(CREATE, { input: { url: target, eventTypes: ['order.created'] } }, adminKey);
      ids.push(created.data!.webhookSubscriptionCreate.webhookSubscription.id);
    }
    const query = 'subscription { orderCreated { orderId } }';
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the concurrent updates did not complete within 30 s')), 30_000)));
    try {
      const results = await Promise.race([Promise.all(ids.map((id) => small.gql(UPDATE, { input: { id, payloadQuery: query } }, adminKey))), stuck]);
      for (const result of results) {
        assert.deepEqual(result.data!.webhookSubscriptionUpdate.userErrors, [], JSON.stringify(result));
      }
    } finally {
      clearTimeout(timer);
    }
    for (const id of ids) {
      const one = await small.gql('query($id: ID!) { webhookSubscription(id: $id) { payloadQuery } }', { id }, adminKey);
      assert.equal(one.data!.webhookSubscription.payloadQuery, query);
    }
  } finally {
    await small.stop();
  }
});
