import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitState, circuitState, probeDue, probeOutcome, waitUntil } from '../../src/delivery/circuit.js';
import { decideOutcome } from '../../src/delivery/outcome.js';

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

test('a failed probe keeps its schedule index and waits for the next probe; success and 410 keep their outcome', () => {
  const schedule = [0, 100, 200];
  const policy = { probeBaseMs: 5000 };
  // On the last step of its schedule: an ordinary failure would be FAILED.
  const failed = decideOutcome({ startedAt: new Date(now), durationMs: 5, status: 500, errorKind: 'HTTP_STATUS', error: '500' }, schedule, 2, now);
  assert.equal(failed.status, 'FAILED');
  const probe = probeOutcome(failed, 2, at(10_000), now, policy);
  assert.deepEqual(probe, { status: 'RETRYING', nextAttemptAt: at(10_000), nextScheduleIndex: 2, subscription: 'failure', lastError: failed.lastError });
  // A probe that outlasted its next probe time still leaves the base wait.
  assert.deepEqual(probeOutcome(failed, 2, at(-1000), now, policy).nextAttemptAt, at(5000));
  const ok = decideOutcome({ startedAt: new Date(now), durationMs: 5, status: 200 }, schedule, 2, now);
  assert.equal(probeOutcome(ok, 2, at(10_000), now, policy), ok);
  const gone = decideOutcome({ startedAt: new Date(now), durationMs: 5, status: 410, errorKind: 'HTTP_STATUS', error: '410' }, schedule, 0, now);
  assert.equal(probeOutcome(gone, 0, at(10_000), now, policy), gone);
});
