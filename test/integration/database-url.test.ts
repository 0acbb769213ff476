import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/postgres.js';

// Parameters of DATABASE_URL (sslmode, application_name, host=/socket/dir, …) reach every connection.
const db = await createTestDatabase('url');
after(() => db.drop());
const url = new URL(db.url);
url.searchParams.set('application_name', 'hookgraph_url_param');
const app = await startTestApp({ label: 'url', env: { DATABASE_URL: url.toString() } });

test("the ORM pool (used by every resolver) connects with DATABASE_URL's query parameters", async () => {
  const { rows } = await app.app.pool.query(`select current_setting('application_name') as name`);
  assert.equal(rows[0].name, 'hookgraph_url_param');
  assert.ok((await app.createTenant()).adminKey, 'and works');
});
