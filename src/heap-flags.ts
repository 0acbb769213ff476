/**
 * V8 heap settings every hookgraph process starts with: the npm scripts, the
 * Docker image's entrypoint and the `hookgraph` bin's shebang pass them to
 * node (a unit test checks that they agree), because V8 reads them only at
 * start-up.
 *
 * Without them a worker draining a backlog holds 450–550 MiB of RSS for
 * 40–50 MiB of live objects. On a machine with several GB of memory V8
 * sizes the young generation at 2 × 64 MiB, and lets the old generation
 * grow to about four times what survived the last full collection before it
 * collects again; under steady load a worker fills both. With a 16 MiB
 * semi-space (node's default before version 22) and a heap that grows by
 * half of what survived, the same drain stays near 210–220 MiB. Neither flag
 * caps the heap: a worker with more live data (large payloads, a higher
 * HOOKGRAPH_WORKER_IN_FLIGHT) still gets the room it needs, in proportion.
 *
 * The price is collection work: the attempts in flight survive many more
 * (smaller) scavenges and full collections come sooner, so a backlog drain
 * costs the worker roughly a quarter more CPU. Where memory is cheaper than
 * CPU, start node with `--max-semi-space-size=0 --heap-growing-percent=0`
 * after these flags (V8's defaults; a later flag wins).
 */
export const HEAP_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=50'] as const;

/** The heap flags this process was started without, with any value of its own (node reads them from its command line only). */
export function missingHeapFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return HEAP_FLAGS.filter((flag) => !execArgv.some((arg) => arg.split('=')[0] === flag.split('=')[0]));
}
