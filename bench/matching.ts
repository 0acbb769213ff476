import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOrm, migrate, pgPool } from '../src/db/orm.js';
import { EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { uuidv7 } from '../src/domain/ids.js';
import { compileFilter } from '../src/domain/filter.js';
import { anyPatternMatches } from '../src/domain/patterns.js';
import { SubscriptionCache } from '../src/delivery/subscription-cache.js';
import { createLogger } from '../src/log.js';

/**
 * `node dist/bench/matching.js [subscriptions…]`: fan-out matching, cached in
 * memory (what publish does: one version query, then match in JS) against
 * matching in SQL on every publish (candidate patterns with `&&`, filters
 * compiled from the rows). Per publish call, one event.
 */
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hookgraph-match-'));
let url = process.env.DATABASE_URL;
let postgres: EmbeddedPostgres | undefined;
if (!url) {
  postgres = new EmbeddedPostgres({ dir: path.join(tmp, 'pg'), ephemeral: true, log: createLogger('warn') });
  await postgres.start();
  url = postgres.url;
}
const orm = await createOrm({ url, poolSize: 4 });
await migrate(orm);
const pool = await pgPool(orm);

/** Every pattern that could select `type`: each segment as itself or `*`, plus `prefix.*` forms. */
function candidates(type: string): string[] {
  const segments = type.split('.');
  const out = new Set<string>(['*']);
  const walk = (i: number, acc: string[]) => {
    if (i === segments.length) return void out.add(acc.join('.'));
    walk(i + 1, [...acc, segments[i]]);
    walk(i + 1, [...acc, '*']);
  };
  walk(0, []);
  for (let i = 1; i < segments.length; i++) {
    const heads: string[][] = [[]];
    for (let j = 0; j < i; j++) heads.splice(0, heads.length, ...heads.flatMap((h) => [[...h, segments[j]], [...h, '*']]));
    for (const h of heads) out.add([...h, '*'].join('.'));
  }
  return [...out];
}

const rows: string[] = [];
for (const n of sizes.length ? sizes : [10, 100, 1000]) {
  const tenantId = uuidv7();
  await pool.query(`insert into tenant (id, name, created_at) values ($1, 'match', now())`, [tenantId]);
  for (let i = 0; i < n; i++) {
    const patterns = [i % 10 === 0 ? 'order.*' : `order.kind${i}`, `user.kind${i}`];
    await pool.query(
      `insert into webhook_subscription (id, tenant_id, url, event_types, filter, headers, status, secret_encrypted, ordered, created_at, updated_at)
       values ($1, $2, 'https://example.com/hook', $3, $4, '{}', 'ENABLED', 'x', false, now(), now())`,
      [uuidv7(), tenantId, patterns, i % 20 === 0 ? JSON.stringify({ total: { $gte: 100 } }) : null],
    );
  }
  const payload = { total: 150 };
  const type = 'order.kind7';
  const cache = new SubscriptionCache();
  const iterations = 300;
  await cache.forTenant(pool, tenantId);
  let start = performance.now();
  let matched = 0;
  for (let i = 0; i < iterations; i++) matched = SubscriptionCache.match(await cache.forTenant(pool, tenantId), type, payload).length;
  const cachedMs = (performance.now() - start) / iterations;

  start = performance.now();
  let sqlMatched = 0;
  for (let i = 0; i < iterations; i++) {
    const { rows: subs } = await pool.query<{ id: string; event_types: string[]; filter: unknown }>(
      `select id, event_types, filter from webhook_subscription where tenant_id = $1 and status = 'ENABLED' and event_types && $2::text[]`,
      [tenantId, candidates(type)],
    );
    sqlMatched = subs.filter((s) => anyPatternMatches(s.event_types, type) && compileFilter(s.filter)(payload)).length;
  }
  const sqlMs = (performance.now() - start) / iterations;

  start = performance.now();
  for (let i = 0; i < 50; i++) {
    const { rows: subs } = await pool.query<{ id: string; event_types: string[]; filter: unknown }>(
      `select id, event_types, filter from webhook_subscription where tenant_id = $1 and status = 'ENABLED'`,
      [tenantId],
    );
    subs.filter((s) => anyPatternMatches(s.event_types, type) && compileFilter(s.filter)(payload));
  }
  const scanMs = (performance.now() - start) / 50;
  rows.push(`${String(n).padStart(6)} subs: cached ${cachedMs.toFixed(3)} ms, SQL candidates ${sqlMs.toFixed(3)} ms, load-all ${scanMs.toFixed(3)} ms per publish (matched ${matched}/${sqlMatched})`);
}
process.stdout.write(rows.join('\n') + '\n');
await orm.close();
await postgres?.stop();
fs.rmSync(tmp, { recursive: true, force: true });
