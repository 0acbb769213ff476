import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as webhookSubscriptions from '../../src/store/webhook-subscriptions.js';
import type { SlotReservation } from '../../src/store/webhook-subscriptions.js';
import { startTestApp } from '../helpers/app.js';
import { eventType, subscription, tenant } from '../helpers/webhooks.js';

/*
 * The shared rate-limit budget in PostgreSQL (GCRA on `rate_tat`), as the
 * worker's claims reserve it: slots on the database's clock, 1/rate apart,
 * never handed out twice however many transactions reserve at once. An api
 * process only: no worker takes slots meanwhile.
 */
const app = await startTestApp({ label: 'rate-slots', role: 'api' });
const { db } = app.app.services!;
const t = await tenant(app);
await eventType(t, 'invoice.paid');

async function limited(rateLimitPerSecond: number | null): Promise<string> {
  return (await subscription(t, { url: 'http://127.0.0.1:9/hook', eventTypes: ['invoice.paid'], rateLimitPerSecond })).id;
}

function reserve(wants: Record<string, number>): Promise<Map<string, SlotReservation>> {
  return db.transaction((tx) => webhookSubscriptions.reserveSendSlots(tx, new Map(Object.entries(wants))), { durable: false });
}

/** The first reserved slot, in microseconds on the database's clock. */
const firstUs = (r: SlotReservation) => r.nowUs + r.firstWaitUs;

test('an idle subscription gets its first slot now; the next reservation continues where the last one ended', async () => {
  const id = await limited(4);
  const first = (await reserve({ [id]: 3 })).get(id)!;
  assert.equal(first.firstWaitUs, 0, 'no earlier reservation: the first slot is now');
  assert.equal(first.stepUs, 250_000);
  const next = (await reserve({ [id]: 1 })).get(id)!;
  assert.equal(firstUs(next), firstUs(first) + 3 * 250_000, 'the slot after the three reserved before');
  assert.ok(next.firstWaitUs > 0);
});

test('a slot in the past is not banked: after idling the next one is now, not a burst of the missed ones', async () => {
  const id = await limited(2);
  await reserve({ [id]: 1 });
  await app.app.pool.query(`update webhook_subscription set rate_tat = now() - interval '10 seconds' where id = $1`, [id]);
  const after = (await reserve({ [id]: 2 })).get(id)!;
  assert.equal(after.firstWaitUs, 0);
  const next = (await reserve({ [id]: 1 })).get(id)!;
  assert.equal(firstUs(next), firstUs(after) + 2 * 500_000);
});

test('one statement serves several subscriptions, each from its own budget; those without a limit are left out', async () => {
  const [a, b, free] = [await limited(1), await limited(10), await limited(null)];
  await reserve({ [a]: 2 });
  const both = await reserve({ [a]: 1, [b]: 3, [free]: 5 });
  assert.deepEqual([...both.keys()].sort(), [a, b].sort());
  assert.equal(both.get(a)!.stepUs, 1_000_000);
  assert.ok(both.get(a)!.firstWaitUs > 0, 'a waits behind its two earlier slots');
  assert.equal(both.get(b)!.firstWaitUs, 0, "b does not wait for a's slots");
  assert.equal(both.get(b)!.stepUs, 100_000);
});

test('the step is rounded up to whole microseconds, so slots are never closer than 1/rate', async () => {
  const id = await limited(3);
  const r = (await reserve({ [id]: 3 })).get(id)!;
  assert.equal(r.stepUs, 333_334);
});

test('a new rate applies to the slots reserved after it; the ones reserved before stand', async () => {
  const id = await limited(1);
  const before = (await reserve({ [id]: 2 })).get(id)!;
  await app.app.pool.query('update webhook_subscription set rate_limit_per_second = 100 where id = $1', [id]);
  const after = (await reserve({ [id]: 2 })).get(id)!;
  assert.equal(firstUs(after), firstUs(before) + 2 * 1_000_000);
  assert.equal(after.stepUs, 10_000);
});

test('concurrent reservations never share a slot: together they are one gapless run, 1/rate apart', async () => {
  const [a, b] = [await limited(50), await limited(20)];
  const steps = { [a]: 20_000, [b]: 50_000 };
  // Booked ahead, so every reservation continues from the last one (an idle budget would rightly leave gaps).
  await app.app.pool.query(`update webhook_subscription set rate_tat = now() + interval '1 minute' where id = any($1)`, [[a, b]]);
  const updatedBefore = (await app.app.pool.query('select id, updated_at from webhook_subscription where id = any($1) order by id', [[a, b]])).rows;
  // 24 transactions at once, on both subscriptions in either order (the rows are locked in id order: no deadlock).
  const wants = Array.from({ length: 24 }, (_, i) => (i % 2 ? { [a]: 1 + (i % 3), [b]: 2 } : { [b]: 1, [a]: 2 + (i % 4) }));
  const results = await Promise.all(wants.map((w) => reserve(w)));
  for (const id of [a, b]) {
    const slots = results.flatMap((r, i) => Array.from({ length: wants[i][id] }, (_, k) => firstUs(r.get(id)!) + k * steps[id])).sort((x, y) => x - y);
    assert.equal(slots.length, wants.reduce((sum, w) => sum + w[id], 0));
    for (let k = 1; k < slots.length; k++) assert.equal(slots[k] - slots[k - 1], steps[id], `slots ${k - 1} and ${k} of one subscription`);
  }
  const updatedAfter = (await app.app.pool.query('select id, updated_at from webhook_subscription where id = any($1) order by id', [[a, b]])).rows;
  assert.deepEqual(updatedAfter, updatedBefore, 'reserving slots is not a change of the subscription');
});
