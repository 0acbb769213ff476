import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEAP_FLAGS } from '../src/heap-flags.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/bench → dist/src/main.js */
export const MAIN = path.resolve(here, '../src/main.js');
/** node's arguments for hookgraph, as `npm start` and the image give them: `[...HOOKGRAPH, 'worker']`. */
/** `--v8-heap-defaults`: hookgraph's processes with V8's own heap sizing instead (to weigh what HEAP_FLAGS cost and save). */
const V8_DEFAULTS = process.argv.includes('--v8-heap-defaults') ? ['--max-semi-space-size=0', '--heap-growing-percent=0'] : [];
export const HOOKGRAPH = [...HEAP_FLAGS, ...V8_DEFAULTS, MAIN];
export const RECEIVER = path.resolve(here, 'receiver.js');
export const COLLECTOR = path.resolve(here, 'collector.js');
export const HANGING_RECEIVER = path.resolve(here, 'hanging-receiver.js');
export const HAND_ROLLED_SENDER = path.resolve(here, 'hand-rolled-sender.js');

export interface Child {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns a node script; resolves once `ready(stdout, stderr)` is true. */
export async function spawnNode(args: string[], env: Record<string, string>, ready: (out: string, err: string) => boolean, timeoutMs = 60_000): Promise<Child> {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} not ready within ${timeoutMs} ms:\n${err.slice(-2000)}`)), timeoutMs);
    const check = () => {
      if (ready(out, err)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', (c: Buffer) => ((out += c.toString()), check()));
    child.stderr!.on('data', (c: Buffer) => ((err += c.toString()), err.length > 1_000_000 && (err = err.slice(-100_000)), check()));
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${err.slice(-2000)}`)));
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Peak resident set size of a process (VmHWM), MiB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/**
 * Samples a process's resident set (VmRSS) every `everyMs`; `stop()` ends
 * sampling and returns the largest sample and the kernel's own peak (VmHWM), MiB.
 */
export function sampleRss(pid: number, everyMs = 250): { stop(): { sampledPeakMb: number; hwmMb: number } } {
  const read = (field: string) => {
    try {
      return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  let peak = read('VmRSS');
  const timer = setInterval(() => (peak = Math.max(peak, read('VmRSS'))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, read('VmRSS'));
      return { sampledPeakMb: Math.round(peak), hwmMb: Math.round(read('VmHWM')) };
    },
  };
}

const TICKS = 100;

/** CPU seconds (user + system) used so far by one process; with `reapedChildren`, also by its children that exited. */
export function cpuSeconds(pid: number, reapedChildren = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return (reapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of one PostgreSQL server: the postmaster whose command line
 * names `dataDir`, and its children (backends, background workers), live or
 * exited. Other
 * PostgreSQL servers on the machine (other test runs) are not counted.
 */
export function postgresCpuSeconds(dataDir: string | undefined): number {
  if (!dataDir) return NaN;
  const pids = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  const parentOf = (pid: string) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    } catch {
      return undefined;
    }
  };
  const postmaster = pids.find((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir) && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
    } catch {
      return false;
    }
  });
  if (!postmaster) return NaN;
  // Backends that exited count through the postmaster's reaped-children time, so the total never goes down.
  let total = cpuSeconds(Number(postmaster), true);
  for (const pid of pids) if (parentOf(pid) === postmaster) total += cpuSeconds(Number(pid));
  return total;
}
