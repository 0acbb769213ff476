import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { wsClient, type GraphQLResponse } from '../helpers/graphql.js';
import { eventType, PUBLISH, tenant } from '../helpers/webhooks.js';

// An error looks the same whichever transport carries it: HTTP (Apollo) and graphql-ws share one formatter.

type Errors = NonNullable<GraphQLResponse['errors']>;

/** Log lines of an app, parsed. */
function collectingLogger() {
  const lines: Record<string, any>[] = [];
  const log = createLogger('error', {}, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function started(nodeEnv: 'production' | 'development' | undefined) {
  const { log, lines } = collectingLogger();
  const app = await startTestApp({ label: `error_format_${nodeEnv ?? 'unset'}`, role: 'api', env: nodeEnv ? { NODE_ENV: nodeEnv } : {}, log });
  const t = await tenant(app);
  await eventType(t, 'order.created');
  const readKey = (await app.createKey(t.key, ['READ'])).key;
  return { app, lines, adminKey: t.key, readKey };
}

/** The same operation over HTTP and over graphql-ws: its errors and data on each. */
async function bothWays(app: TestApp, key: string, query: string, variables?: Record<string, unknown>) {
  const http = await app.gql(query, variables, key);
  const client = wsClient(app.url, key);
  try {
    // An execution error arrives in a `next` message; a refused operation (parse, validation) as an `error` message.
    const answer = await client.subscribe<any>(query, variables).next(10_000).then(
      (value) => value,
      (error: unknown) => {
        if (Array.isArray(error)) return { errors: error };
        throw error;
      },
    );
    return { http: { errors: http.errors, data: http.data }, ws: { errors: answer.errors as Errors | undefined, data: answer.data } };
  } finally {
    await client.dispose();
  }
}

/** Makes every event insert fail inside PostgreSQL for the duration of `body`. */
async function failingInserts<T>(app: TestApp, body: () => Promise<T>): Promise<T> {
  const { pool } = app.app;
  await pool.query(`create or replace function fail_event() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
  await pool.query('create trigger fail_event before insert on event for each row execute function fail_event()');
  try {
    return await body();
  } finally {
    await pool.query('drop trigger fail_event on event');
  }
}

const PUBLISH_INPUT = { input: { eventType: 'order.created', payload: { n: 1 } } };
const unexpectedLines = (lines: Record<string, any>[]) => lines.filter((line) => line.msg === 'unexpected error in a GraphQL operation');

test('production: an internal error is masked, coded and logged alike over HTTP and graphql-ws', async () => {
  const { app, lines, adminKey } = await started('production');
  const { http, ws } = await failingInserts(app, () => bothWays(app, adminKey, PUBLISH, PUBLISH_INPUT));
  const masked = [{ message: 'Internal server error', locations: [{ line: 1, column: PUBLISH.indexOf('eventPublish(') + 1 }], path: ['eventPublish'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }];
  assert.deepEqual(http.errors, masked);
  assert.deepEqual(ws.errors, masked);
  assert.deepEqual(ws.data, http.data);
  const logged = unexpectedLines(lines);
  assert.equal(logged.length, 2, 'one log line per transport');
  for (const line of logged) assert.match(JSON.stringify(line.err), /injected failure/);
  assert.doesNotMatch(JSON.stringify(ws), /injected failure/);
});

test('NODE_ENV unset: internal errors are masked and no answer carries a stack trace (only development shows them)', async () => {
  const { app, adminKey } = await started(undefined);
  const { http, ws } = await failingInserts(app, () => bothWays(app, adminKey, PUBLISH, PUBLISH_INPUT));
  assert.equal(http.errors?.[0]?.message, 'Internal server error');
  assert.equal(ws.errors?.[0]?.message, 'Internal server error');
  const unauthenticated = await app.gql('{ viewer { tenant { name } } }', undefined, undefined);
  const invalid = await app.gql('{ nope }', undefined, adminKey);
  for (const answer of [http, ws, unauthenticated, invalid]) {
    assert.ok(answer.errors?.length, JSON.stringify(answer));
    for (const error of answer.errors!) assert.equal(error.extensions?.stacktrace, undefined, JSON.stringify(error));
  }
});

test('production: user-facing errors carry the same message and code over HTTP and graphql-ws', async () => {
  const { app, lines, adminKey, readKey } = await started('production');
  const before = unexpectedLines(lines).length;
  const cases: [what: string, key: string, query: string, variables: Record<string, unknown> | undefined, code: string][] = [
    ['a missing scope (FORBIDDEN, whose HTTP status is not sent)', readKey, PUBLISH, PUBLISH_INPUT, 'FORBIDDEN'],
    ['an argument a resolver refuses', adminKey, '{ deliveries(first: 0) { nodes { id } } }', undefined, 'BAD_USER_INPUT'],
    ['a variable of the wrong type', adminKey, 'query($n: Int) { deliveries(first: $n) { nodes { id } } }', { n: 'ten' }, 'BAD_USER_INPUT'],
    ['an unknown field', adminKey, '{ nope }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a syntax error', adminKey, '{ deliveries(', undefined, 'GRAPHQL_PARSE_FAILED'],
    ['two operations and no name', adminKey, 'query a { __typename } query b { __typename }', undefined, 'OPERATION_RESOLUTION_FAILURE'],
  ];
  for (const [what, key, query, variables, code] of cases) {
    const { http, ws } = await bothWays(app, key, query, variables);
    assert.equal(http.errors?.[0]?.extensions?.code, code, `${what}: HTTP code`);
    assert.deepEqual(ws.errors, http.errors, `${what}: the same errors over graphql-ws`);
    assert.deepEqual(ws.data, http.data, `${what}: the same data`);
  }
  assert.equal(unexpectedLines(lines).length, before, 'none of these is logged as unexpected');
});

test('development: an internal error shows its message, and a stack trace, over both transports', async () => {
  const { app, adminKey } = await started('development');
  const { http, ws } = await failingInserts(app, () => bothWays(app, adminKey, PUBLISH, PUBLISH_INPUT));
  const withoutStack = (errors: Errors | undefined) =>
    errors?.map(({ extensions, ...rest }) => {
      const { stacktrace, ...others } = extensions ?? {};
      assert.ok(Array.isArray(stacktrace) && stacktrace.length > 0, 'a stack trace outside production');
      return { ...rest, extensions: others };
    });
  assert.deepEqual(withoutStack(ws.errors), withoutStack(http.errors));
  assert.equal(http.errors?.[0]?.extensions?.code, 'INTERNAL_SERVER_ERROR');
  assert.match(http.errors?.[0]?.message ?? '', /injected failure/);
});
