/**
 * Test harness: every suite starts its own real `redis-server` on a free loopback port, with
 * `maxmemory-policy noeviction` as production requires, and stops it afterwards. No test touches a
 * Redis it did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapOnExit } from './reap';

export interface TestRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, waits for exit). Safe to call twice. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory (after `stop`). */
  restart(): Promise<void>;
  /** Sends `signal` to the server: SIGSTOP freezes it with its connections open (a hung Redis), SIGCONT resumes it. */
  signal(signal: NodeJS.Signals): void;
}

/** Finds a free TCP port on 127.0.0.1 by binding port 0 and releasing it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

async function waitForReady(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
}

/**
 * Starts a fresh redis-server for one suite.
 * @param extraArgs further `--option value` pairs (e.g. `['--appendonly', 'yes']`).
 */
export async function startRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gk-redis-'));
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    child = reapOnExit(
      spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction', ...extraArgs],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    await waitForReady(child);
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await stop();
    },
    restart: launch,
    signal: (signal) => {
      child?.kill(signal);
    },
  };
}

/** Stops the server and removes nothing else; call in `afterAll`. */
export async function stopRedis(redis: TestRedis | undefined): Promise<void> {
  if (redis) await redis.stop();
}

/** Removes a temporary directory created by a test. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
