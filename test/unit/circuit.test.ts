import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitState, circuitState, probeDue, waitUntil } from '../../src/delivery/circuit.js';

const now = Date.parse('2026-12-02T00:00:00Z');
const at = (ms: number) => new Date(now + ms);

test('the state follows from the columns: closed, open, half-open while a probe lease runs', () => {
  assert.equal(circuitState({}, now), CircuitState.CLOSED);
  assert.equal(circuitState({ circuitOpenedAt: at(-1000), circuitNextProbeAt: at(4000) }, now), CircuitState.OPEN);
  assert.equal(circuitState({ circuitOpenedAt: at(-1000), circuitNextProbeAt: at(-10), circuitProbeUntil: at(20_000) }, now), CircuitState.HALF_OPEN);
  // A lease that ran out (its prober died): open again, and the probe may be taken.
  const lapsed = { circuitOpenedAt: at(-60_000), circuitNextProbeAt: at(-30_000), circuitProbeUntil: at(-1) };
  assert.equal(circuitState(lapsed, now), CircuitState.OPEN);
  assert.equal(probeDue(lapsed, now), true);
});

test('a probe is due once its time has come and no other probe holds the lease', () => {
  assert.equal(probeDue({}, now), false);
  assert.equal(probeDue({ circuitOpenedAt: at(-1000), circuitNextProbeAt: at(1) }, now), false);
  assert.equal(probeDue({ circuitOpenedAt: at(-1000), circuitNextProbeAt: at(0) }, now), true);
  assert.equal(probeDue({ circuitOpenedAt: at(-1000), circuitNextProbeAt: at(-5), circuitProbeUntil: at(5) }, now), false);
});

test('waiting deliveries are due at the next probe, or past it at the end of the lease of a slow probe, never right away', () => {
  assert.deepEqual(waitUntil({ circuitOpenedAt: at(-1), circuitNextProbeAt: at(5000) }, now, 20_000), at(5000));
  assert.deepEqual(waitUntil({ circuitOpenedAt: at(-1), circuitNextProbeAt: at(-5), circuitProbeUntil: at(15_000) }, now, 20_000), at(15_000));
  assert.deepEqual(waitUntil({ circuitOpenedAt: at(-1), circuitNextProbeAt: at(-5) }, now, 20_000), at(20_000));
  // A probe in flight: wait for the probe after it (its success pulls them forward before).
  assert.deepEqual(waitUntil({ circuitOpenedAt: at(-1), circuitNextProbeAt: at(10_000), circuitProbeUntil: at(25_000) }, now, 20_000), at(10_000));
});
