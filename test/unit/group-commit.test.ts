import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Doorbell } from '../../src/delivery/doorbell.js';
import { GroupCommit } from '../../src/delivery/group-commit.js';
import { pgBossChannel } from '../../src/store/queue.js';
import { silentLogger } from '../../src/log.js';

test('items are committed in groups of at most maxItems, one commit at a time, none lost', async () => {
  const groups: number[][] = [];
  let open = 0;
  let most = 0;
  const commit = new GroupCommit<number>({
    maxItems: 10,
    delayMs: 1,
    async commit(items) {
      most = Math.max(most, ++open);
      await new Promise((r) => setTimeout(r, 5));
      groups.push(items);
      open--;
    },
    retryable: () => true,
    abandon: () => assert.fail('nothing abandoned'),
    log: silentLogger,
  });
  for (let i = 0; i < 35; i++) commit.add(i);
  await commit.drain();
  assert.equal(most, 1);
  assert.ok(groups.every((g) => g.length <= 10));
  assert.deepEqual(groups.flat(), Array.from({ length: 35 }, (_, i) => i));
});

test('a failed commit is retried with what arrived meanwhile; items past retrying are abandoned', async () => {
  const committed: string[][] = [];
  const abandoned: string[] = [];
  let failures = 2;
  const commit = new GroupCommit<string>({
    maxItems: 10,
    delayMs: 1,
    async commit(items) {
      if (failures-- > 0) throw new Error('connection terminated');
      committed.push(items);
    },
    retryable: (item) => item !== 'expired',
    abandon: (items) => abandoned.push(...items),
    log: silentLogger,
  });
  commit.add('a');
  commit.add('expired');
  await new Promise((r) => setTimeout(r, 20));
  commit.add('b');
  await commit.drain();
  assert.deepEqual(abandoned, ['expired']);
  assert.deepEqual(committed.flat().sort(), ['a', 'b']);
});

test('a doorbell rung while nobody waits wakes the next wait, unless cleared', async () => {
  const bell = new Doorbell();
  bell.ring();
  let woke = false;
  await bell.wait(60_000).then(() => (woke = true));
  assert.equal(woke, true);
  bell.ring();
  bell.clear();
  const order: string[] = [];
  const waiting = bell.wait(60_000).then(() => order.push('woke'));
  await new Promise((r) => setTimeout(r, 5));
  order.push('ring');
  bell.ring();
  await waiting;
  assert.deepEqual(order, ['ring', 'woke']);
});

test("pg-boss's NOTIFY channel name for the hookgraph schema", () => {
  // As pg-boss computes it in SQL: 'pgboss_' || left(encode(sha224('pgboss'::bytea), 'hex'), 24).
  assert.equal(pgBossChannel('pgboss'), pgBossChannel('"pgboss"'));
  assert.match(pgBossChannel('pgboss'), /^pgboss_[0-9a-f]{24}$/);
});
