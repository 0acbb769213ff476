import { pgBossChannel } from '../store/queue.js';
import type { PgBoss } from 'pg-boss';
import type { Logger } from '../log.js';

/**
 * Wakes the worker's own fetch loops when pg-boss announces new jobs. The
 * worker fetches with `boss.fetch` instead of `boss.work` (a `work` handler's
 * jobs are completed when it returns, and the worker completes each job in
 * the commit that records its attempt), so pg-boss's notifier, which only
 * wakes `work` loops, does not reach it. This listens on the same channel
 * through pg-boss's own listener connection type (dedicated client,
 * heartbeat, reconnect with backoff), and a reconnect wakes every loop, since
 * notifications sent meanwhile are lost.
 *
 * A hint, never the truth: the loops poll as well, so a missed or renamed
 * channel costs latency, not deliveries.
 */
export interface JobWakeups {
  /** True while the listener is connected (the loops then poll less often). */
  readonly listening: boolean;
  close(): Promise<void>;
}

export async function listenForJobs(boss: PgBoss, schema: string, log: Logger, onQueue: (queue: string) => void, onReconnect: () => void): Promise<JobWakeups> {
  const db = boss.getDb();
  const state = { listening: false, close: async () => {} };
  if (typeof db.listen !== 'function') {
    log.warn('delivery worker: no LISTEN support on the queue connection; polling only');
    return state;
  }
  try {
    const handle = await db.listen(pgBossChannel(schema), onQueue, () => {
      state.listening = true;
      onReconnect();
    });
    state.listening = true;
    state.close = async () => {
      state.listening = false;
      await handle.close();
    };
  } catch (error) {
    log.warn('delivery worker: could not LISTEN for new jobs; polling only', { err: error });
  }
  return state;
}
