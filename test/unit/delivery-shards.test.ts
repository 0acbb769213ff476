import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DELIVERY_SHARDS, DELIVERY_SHARD_QUEUES, inShard, queueFor, shardPicker } from '../../src/delivery/jobs.js';
import { sequentialUuidv7 } from '../../src/delivery/sequential-ids.js';
import { isUuid } from '../../src/domain/ids.js';

test('a delivery id moved into a shard is still a UUID, keeps its order, and queueFor finds that shard', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => inShard(sequentialUuidv7(), i % DELIVERY_SHARDS));
  ids.forEach((id, i) => {
    assert.equal(isUuid(id), true, id);
    assert.equal(queueFor(false, id), DELIVERY_SHARD_QUEUES[i % DELIVERY_SHARDS]);
  });
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], 'publish order is id order');
});

test('one publish call: a small one lands in one shard, a large one spreads in runs', () => {
  const small = shardPicker(100);
  assert.equal(new Set(Array.from({ length: 100 }, () => small())).size, 1);
  const large = shardPicker(100);
  const counts = new Array<number>(DELIVERY_SHARDS).fill(0);
  for (let i = 0; i < 100 * DELIVERY_SHARDS; i++) counts[large()]++;
  assert.deepEqual(counts, new Array<number>(DELIVERY_SHARDS).fill(100));
});
