import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyPatternMatches, isValidEventTypeName, isValidPattern, isWildcard, patternMatches, patternProblem } from '../../src/domain/patterns.js';

test('event type names are lowercase dot-separated segments', () => {
  for (const name of ['order.created', 'billing.invoice.paid', 'payment_intent.succeeded', 'ping', 'v2.user-signed_up', 'a.b1']) {
    assert.equal(isValidEventTypeName(name), true, name);
  }
  const bad = ['', 'Order.created', 'order..created', '.order', 'order.', 'order.*', '*', '1order', 'order created', 'order.créé', 'order/created', 'a.'.repeat(20) + 'a', 'a'.repeat(129), 'order.\n', '__proto__', 'constructor.x-'];
  for (const name of bad.slice(0, -2)) assert.equal(isValidEventTypeName(name), false, JSON.stringify(name));
  for (const name of [null, undefined, 42, {}, ['order.created']]) assert.equal(isValidEventTypeName(name), false);
});

test('patterns allow * segments', () => {
  for (const p of ['*', 'order.*', '*.created', 'billing.*.paid', 'order.created']) assert.equal(isValidPattern(p), true, p);
  for (const p of ['', '**', 'order*', 'order.**', 'order.*x', '.*', 'order.', 'ORDER.*', '*.'.repeat(17) + '*', 'a'.repeat(200)]) assert.equal(isValidPattern(p), false, p);
  assert.equal(isWildcard('order.*'), true);
  assert.equal(isWildcard('order.created'), false);
  assert.match(patternProblem('Order.*')!, /not a valid pattern/);
  assert.equal(patternProblem('order.*'), undefined);
});

test('a trailing * matches one or more segments, not the prefix itself', () => {
  assert.equal(patternMatches('order.*', 'order.created'), true);
  assert.equal(patternMatches('order.*', 'order.item.added'), true);
  assert.equal(patternMatches('order.*', 'order'), false);
  assert.equal(patternMatches('order.*', 'orders.created'), false);
  assert.equal(patternMatches('order.*', 'billing.order.created'), false);
});

test('* alone matches every event type', () => {
  for (const type of ['ping', 'order.created', 'a.b.c.d']) assert.equal(patternMatches('*', type), true);
});

test('an inner * matches exactly one segment', () => {
  assert.equal(patternMatches('*.created', 'order.created'), true);
  assert.equal(patternMatches('*.created', 'billing.invoice.created'), false);
  assert.equal(patternMatches('billing.*.paid', 'billing.invoice.paid'), true);
  assert.equal(patternMatches('billing.*.paid', 'billing.invoice.item.paid'), false);
  assert.equal(patternMatches('*.*', 'a'), false);
  assert.equal(patternMatches('*.*', 'a.b.c'), true);
});

test('exact names match only themselves', () => {
  assert.equal(patternMatches('order.created', 'order.created'), true);
  assert.equal(patternMatches('order.created', 'order.created.v2'), false);
  assert.equal(patternMatches('order.created', 'order'), false);
});

test('hostile patterns match nothing and do not throw', () => {
  const long = 'a.'.repeat(5000) + '*';
  assert.equal(patternMatches(long, 'a.b'), false);
  assert.equal(patternMatches('(.*)*', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'), false);
  assert.equal(patternMatches('.*', 'order.created'), false);
  assert.equal(patternMatches('order.[a-z]+', 'order.created'), false);
  assert.equal(patternMatches('__proto__', '__proto__'), false);
  assert.equal(patternMatches('ORDER.*', 'ORDER.created'), false);
});

test("hookgraph's own types are matched only by patterns that name the hookgraph namespace", () => {
  for (const type of ['hookgraph.subscription.disabled', 'hookgraph.delivery.failed', 'hookgraph.test']) {
    assert.equal(patternMatches('*', type), false);
    assert.equal(patternMatches('*.*', type), false);
    assert.equal(patternMatches('hookgraph.*', type), true);
  }
  assert.equal(patternMatches('*.delivery.failed', 'hookgraph.delivery.failed'), false);
  assert.equal(patternMatches('hookgraph.delivery.*', 'hookgraph.delivery.failed'), true);
  assert.equal(patternMatches('hookgraph.*.disabled', 'hookgraph.subscription.disabled'), true);
  assert.equal(patternMatches('hookgraph.delivery.failed', 'hookgraph.delivery.failed'), true);
  assert.equal(anyPatternMatches(['*', 'order.*'], 'hookgraph.subscription.disabled'), false);
  assert.equal(anyPatternMatches(['*', 'hookgraph.*'], 'hookgraph.subscription.disabled'), true);
  // Other types whose name merely starts alike are not in the namespace.
  assert.equal(patternMatches('*', 'hookgraphs.created'), true);
});

test('anyPatternMatches', () => {
  assert.equal(anyPatternMatches(['billing.*', 'order.created'], 'order.created'), true);
  assert.equal(anyPatternMatches(['billing.*', 'order.created'], 'order.deleted'), false);
  assert.equal(anyPatternMatches([], 'order.created'), false);
});
