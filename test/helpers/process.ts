import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HEAP_FLAGS } from '../../src/heap-flags.js';

/** The compiled CLI, `dist/src/main.js`. */
export const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

export interface HookgraphProcess {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first JSON log entry whose `msg` equals `message`. */
  waitForLog(message: string, timeoutMs?: number): Promise<Record<string, any>>;
  /** Exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<number | string>;
}

/** Runs `hookgraph <role>` (`main`: another build's main.js) as its own OS process, with the heap flags of the npm scripts (killed when the test file ends). */
export function spawnHookgraph(role: string, env: Record<string, string>, options: { cwd?: string; main?: string } = {}): HookgraphProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', ...HEAP_FLAGS, options.main ?? MAIN, role], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => ((out += chunk.toString()), listeners.forEach((l) => l())));
  child.stderr!.on('data', (chunk: Buffer) => ((err += chunk.toString()), listeners.forEach((l) => l())));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const findLog = (message: string) => {
    for (const line of err.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line);
        if (entry.msg === message) return entry;
      } catch {
        /* partial line */
      }
    }
    return undefined;
  };
  const handle: HookgraphProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog(message, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const entry = findLog(message);
          if (entry) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(entry);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no "${message}" log within ${timeoutMs}ms; stderr:\n${err.slice(-2000)}`));
        }, timeoutMs);
        listeners.add(check);
        exited.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited before "${message}"; stderr:\n${err.slice(-2000)}`));
          }
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return handle;
}
