/**
 * The development Redis: when no REDIS_URL, cluster or sentinel is configured, `npm start` runs a local
 * `redis-server` as its child, with the settings production must have (append-only on, `noeviction`), its
 * data under `<DATA_DIR>/redis`, on a free loopback port.
 *
 * The child must never outlive Gatekeeper (a stray Redis would hold the data directory and a port):
 * it is stopped on `stop()`, on the process's exit (normal, uncaught exception, and — unless the caller owns
 * signals — SIGTERM/SIGINT), and a start first ends a Redis left behind by a parent that was killed outright
 * (SIGKILL runs no handler), found through its `--pidfile`.
 *
 * Uses Node built-ins only, so it can run (and be tested) on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';

export type EmbeddedRedisErrorCode = 'redis-server-missing' | 'redis-start-failed';

/** Why the embedded Redis could not start; `message` is one line an operator can act on. */
export class EmbeddedRedisError extends Error {
  readonly code: EmbeddedRedisErrorCode;

  constructor(code: EmbeddedRedisErrorCode, message: string) {
    super(message);
    this.name = 'EmbeddedRedisError';
    this.code = code;
  }
}

export interface EmbeddedRedis {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The redis-server's process id. */
  pid: number;
  /** Stops the server (SIGTERM, so the append-only file is flushed) and waits for it. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  /**
   * Stop Redis on SIGTERM/SIGINT and then let the signal end the process. Default `true`. Pass `false` when the
   * caller handles those signals itself (bin/gatekeeper.ts drains requests first, then calls `stop()`).
   */
  handleSignals?: boolean;
  /** Install redis-server with apt-get when it is missing and we are root on Debian/Ubuntu. Default `true`. */
  installIfMissing?: boolean;
  /** The program to run. Default `redis-server`, looked up on PATH. */
  redisServer?: string;
  /** Receives progress lines ("installing redis-server", an unexpected exit). Default: none. */
  log?: (message: string) => void;
  /** Called if the server exits on its own after it was ready (a crash, or someone killed it). */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

const READY = 'Ready to accept connections';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/** Finds an executable on PATH (like `command -v`). */
export function findExecutable(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? resolve(name) : undefined;
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The one command a person should run to get redis-server on this kind of machine. */
export function installHint(): string {
  if (process.platform === 'darwin') return 'brew install redis';
  if (findExecutable('apt-get')) return 'sudo apt-get update && sudo apt-get install -y redis-server';
  if (findExecutable('dnf')) return 'sudo dnf install -y redis';
  if (findExecutable('apk')) return 'sudo apk add redis';
  return 'install Redis 7 so that redis-server is on PATH';
}

/** bin/ensure-redis-server.sh, from the source tree (bin/) or the build (dist/bin/). */
function ensureScript(): string | undefined {
  const candidates = [join(__dirname, 'ensure-redis-server.sh'), join(__dirname, '..', '..', 'bin', 'ensure-redis-server.sh')];
  return candidates.find((file) => existsSync(file));
}

async function run(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolvePromise) => {
    // stdin ignored: apt must never wait for an answer (CI has no stdin).
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    child.once('error', () => resolvePromise(-1));
    child.once('exit', (code) => resolvePromise(code));
  });
}

/**
 * Makes sure redis-server can be run: found on PATH, or installed with apt-get when we may (root on a
 * Debian-like system).
 * @throws EmbeddedRedisError `redis-server-missing` with the exact command to run.
 */
export async function ensureRedisServer(options: EmbeddedRedisOptions = {}): Promise<string> {
  const name = options.redisServer ?? 'redis-server';
  const found = findExecutable(name);
  if (found) return found;
  const missing = (): never => {
    throw new EmbeddedRedisError(
      'redis-server-missing',
      `redis-server is not installed and REDIS_URL is not set: run \`${installHint()}\` (or set REDIS_URL to an existing Redis)`,
    );
  };
  const script = ensureScript();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (options.installIfMissing === false || name !== 'redis-server' || !isRoot || !findExecutable('apt-get') || !script) return missing();
  options.log?.('redis-server is missing: installing it with apt-get');
  const code = await run('bash', [script]);
  return (code === 0 ? findExecutable(name) : undefined) ?? missing();
}

/** A free TCP port on 127.0.0.1 (bound and released; the start retries if another process takes it first). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolvePromise(address.port);
      });
    });
  });
}

/** Whether a process is running (a zombie, exited but not yet reaped, counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) succeeded, so it runs
  }
}

function isRedisProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    return false; // cannot tell: leave it alone rather than kill a stranger that reused the pid
  }
}

async function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Ends a redis-server left running by an earlier Gatekeeper that was killed outright, found through the
 * pidfile in the same data directory; two servers appending to one AOF would corrupt it.
 */
async function endLeftover(pidfile: string, log?: (message: string) => void): Promise<void> {
  if (!existsSync(pidfile)) return;
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isRunning(pid) && isRedisProcess(pid)) {
    log?.(`stopping a redis-server (pid ${pid}) left running on this data directory`);
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; isRunning(pid) && waited < STOP_TIMEOUT_MS; waited += 100) await sleep(100);
    if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidfile, { force: true });
}

/** Waits for the ready line; rejects with the server's last output if it exits or stalls first. */
async function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
      if (output.includes(READY)) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`redis-server exited (${code}) before it was ready: ${lastLines(output)}`));
    const onError = (err: Error): void => finish(err);
    const timer = setTimeout(() => finish(new Error(`redis-server was not ready within ${START_TIMEOUT_MS} ms: ${lastLines(output)}`)), START_TIMEOUT_MS);
    function finish(err?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', collect);
      child.stderr?.off('data', collect);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolvePromise();
    }
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function lastLines(output: string): string {
  return output.trim().split('\n').slice(-3).join(' | ');
}

/**
 * Starts a redis-server for this process.
 * @param dataDir Gatekeeper's `DATA_DIR`; Redis keeps its files in `<dataDir>/redis`.
 * @throws EmbeddedRedisError `redis-server-missing` (with the command to install it) or `redis-start-failed`.
 */
export async function startEmbeddedRedis(dataDir: string, options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  const program = await ensureRedisServer(options);
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const pidfile = join(dir, 'redis.pid');
  await endLeftover(pidfile, options.log);

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const child = spawn(
      program,
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--protected-mode', 'yes',
        '--dir', dir,
        '--appendonly', 'yes',
        '--maxmemory-policy', 'noeviction',
        '--save', '',
        '--pidfile', pidfile,
        '--daemonize', 'no',
      ],
      // Its own process group: a terminal's Ctrl-C reaches only Gatekeeper, which drains its requests
      // before stopping Redis, instead of Redis vanishing under them.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    try {
      await waitForReady(child);
    } catch (err) {
      lastError = err;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // Another process took the port between freePort and the bind: try another one.
      if (err instanceof Error && /already in use/i.test(err.message)) continue;
      break;
    }
    return supervise(child, port, pidfile, options);
  }
  throw new EmbeddedRedisError('redis-start-failed', `The embedded redis-server did not start: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

function supervise(child: ChildProcess, port: number, pidfile: string, options: EmbeddedRedisOptions): EmbeddedRedis {
  const pid = child.pid;
  if (pid === undefined) throw new EmbeddedRedisError('redis-start-failed', 'The embedded redis-server has no process id');
  // Keep draining its log so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();

  let stopping: Promise<void> | undefined;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  // 'exit' handlers must be synchronous: send the signal and let Redis finish on its own.
  const onProcessExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void stop().finally(() => {
      // Re-raise with our handler gone, so the process ends as the signal intended — unless someone else
      // listens, in which case ending the process is theirs to do.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  const detach = (): void => {
    process.off('exit', onProcessExit);
    if (options.handleSignals !== false) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  };

  child.once('exit', (code, signal) => {
    detach();
    if (!stopping) {
      options.log?.(`the embedded redis-server exited unexpectedly (code ${code}, signal ${signal})`);
      options.onUnexpectedExit?.(code, signal);
    }
  });
  process.on('exit', onProcessExit);
  if (options.handleSignals !== false) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      detach();
      // Redis removes its pidfile on a clean shutdown; after SIGKILL it cannot.
      rmSync(pidfile, { force: true });
    })();
    return stopping;
  }

  return { url: `redis://127.0.0.1:${port}`, port, pid, stop };
}
