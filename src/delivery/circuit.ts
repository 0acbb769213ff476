import type { Config } from '../config/config.js';
import { DeliveryStatus } from '../domain/entities/Delivery.js';
import type { AttemptOutcome } from './outcome.js';
import { deliveryExpireSeconds } from './queue.js';
import type { CircuitColumns, CircuitPolicy } from '../store/webhook-subscriptions.js';

export type { CircuitColumns, CircuitPolicy };

/*
 * The circuit breaker of a subscription, and why it works the way it does.
 *
 * State lives on the subscription row (see the WebhookSubscription entity), so
 * every worker process sees the same circuit:
 * - CLOSED (`circuit_opened_at` null): deliveries flow. Failed attempts are
 *   counted in `consecutive_failures` by the group commit that records them
 *   (`webhookSubscriptions.recordHealth`, next to the failure streak that
 *   leads to FAILING_DISABLED); a success resets the count. The commit whose
 *   count reaches HOOKGRAPH_CIRCUIT_FAILURES opens the circuit, with the first
 *   probe due HOOKGRAPH_CIRCUIT_PROBE_BASE later.
 * - OPEN: a claim of one of its deliveries makes no attempt. The delivery is
 *   RETRYING with `next_attempt_at` at the next probe time and its attempt
 *   count unchanged (waiting does not use up the retry schedule); its job is
 *   replaced by one due then (ordered: the job itself is moved there, keeping
 *   its place at the head of its key, as for a retry).
 * - HALF_OPEN (`circuit_probe_until` in the future): the first claim after
 *   the probe time takes the probe, with a conditional UPDATE of the row that
 *   only one transaction can win (`webhookSubscriptions.takeProbes`), whatever
 *   the number of workers; its delivery is attempted. The take also sets the
 *   time of the probe after it (the wait doubled), so the deliveries that
 *   lost the probe wait for exactly that one. The lease ends with the
 *   probe's outcome; if the prober dies, it runs out (a little after pg-boss
 *   expires the probe's job), and the next claim takes a new probe.
 *
 * With nothing waiting (every delivery used up its schedule), the next
 * delivery to fall due after the probe time is the probe.
 *
 * The probe is recorded like any attempt (an attempt row, the attempt count
 * one up), but a failed probe does not use up its delivery's retry schedule
 * either: the delivery waits for the next probe with its schedule where it
 * was (`probeOutcome`), so however long the receiver is down no delivery
 * fails for it while the circuit is open (FAILING_DISABLED ends that).
 * An ordered subscription's head is therefore its probe at every probe time. A success — of the probe or of any attempt still in
 * flight — closes the circuit; the same commit pulls the subscription's
 * waiting jobs forward (`queue.pullForward`, which also NOTIFYs every worker),
 * so they flow at once, the ordered ones in order. A failed probe opens the
 * circuit again until the time its take set (waits doubling up to
 * HOOKGRAPH_CIRCUIT_PROBE_MAX, measured between probe starts), at least
 * HOOKGRAPH_CIRCUIT_PROBE_BASE after the failure (a probe that timed out).
 * Every change of state is announced (webhookSubscriptionUpdated; a lease
 * that runs out is not announced, the next probe taken is), and
 * `recordHealth` returns the circuits a commit opened and closed.
 *
 * FAILING_DISABLED (no success for HOOKGRAPH_DISABLE_AFTER: failed probes
 * keep the streak going) and 410 Gone (at once) still disable the
 * subscription; re-enabling it starts with a closed circuit.
 */

export enum CircuitState {
  CLOSED = 'CLOSED',
  OPEN = 'OPEN',
  HALF_OPEN = 'HALF_OPEN',
}

export function circuitPolicy(config: Config): CircuitPolicy {
  return {
    failures: config.circuitFailures,
    probeBaseMs: config.circuitProbeBaseMs,
    probeMaxMs: config.circuitProbeMaxMs,
    leaseMs: deliveryExpireSeconds(config.deliveryTimeoutMs) * 1000 + 5_000,
  };
}

export function circuitState(c: CircuitColumns, now: number): CircuitState {
  if (!c.circuitOpenedAt) return CircuitState.CLOSED;
  return c.circuitProbeUntil && c.circuitProbeUntil.getTime() > now ? CircuitState.HALF_OPEN : CircuitState.OPEN;
}

/** Whether a claim at `now` may try to take the probe of this open circuit. */
export function probeDue(c: CircuitColumns, now: number): boolean {
  return !!c.circuitOpenedAt && (c.circuitNextProbeAt?.getTime() ?? 0) <= now && circuitState(c, now) === CircuitState.OPEN;
}

/**
 * Until when a delivery of this open circuit waits: the next probe time (while
 * a probe is in flight, the one after it should it fail; its success pulls
 * the waiting ones forward long before). Past that, while a slow probe is
 * still in flight, its lease; never before `now + minMs`.
 */
export function waitUntil(c: CircuitColumns, now: number, minMs: number): Date {
  const next = c.circuitNextProbeAt?.getTime() ?? 0;
  if (next > now) return new Date(next);
  const lease = c.circuitProbeUntil?.getTime() ?? 0;
  return new Date(lease > now ? lease : now + minMs);
}

/**
 * A failed probe's delivery waits like the others: RETRYING until the next
 * probe (at least the base wait from now: a probe that timed out may have
 * outlasted the time its take set), its schedule index unchanged. Successes
 * and 410 Gone keep their outcome.
 */
export function probeOutcome(outcome: AttemptOutcome, scheduleIndex: number, nextProbeAt: Date | undefined, now: number, policy: Pick<CircuitPolicy, 'probeBaseMs'>): AttemptOutcome {
  if (outcome.subscription !== 'failure') return outcome;
  const at = Math.max(nextProbeAt?.getTime() ?? 0, now + policy.probeBaseMs);
  return { status: DeliveryStatus.RETRYING, nextAttemptAt: new Date(at), nextScheduleIndex: scheduleIndex, subscription: 'failure', lastError: outcome.lastError };
}
