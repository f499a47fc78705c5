/**
 * Test harness: a Sentinel-managed Redis on loopback — a primary, one replica and one Sentinel (quorum 1) —
 * started by the suite that uses it, with timeouts short enough that a failover finishes in a few seconds.
 * `killMaster()` SIGKILLs the primary (no goodbye, no final sync: the way a host dies) and waits until
 * Sentinel has promoted the replica.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server';
import { reapOnExit } from './reap';

/** The primary name Sentinel monitors (`REDIS_SENTINEL_NAME`). */
export const SENTINEL_MASTER_NAME = 'gk-primary';

/** A running Sentinel setup. */
export interface TestRedisSentinel {
  /** Port of the Sentinel. */
  sentinelPort: number;
  /** `127.0.0.1:<sentinel port>`: the value of `REDIS_SENTINELS`. */
  sentinelList: string;
  /** `REDIS_SENTINEL_NAME`. */
  name: string;
  /** Port of the current primary, as this harness last saw it. */
  masterPort(): number;
  /** Port of the current replica (before a failover), or the killed primary's (after). */
  replicaPort(): number;
  /**
   * SIGKILLs the current primary and resolves once Sentinel names the replica as primary and the replica
   * says `role:master`.
   * @returns the new primary's port.
   */
  killMaster(): Promise<number>;
  /**
   * A planned switchover (`SENTINEL FAILOVER`): the replica is promoted and the old primary becomes its
   * replica. Resolves once Sentinel names the new primary and the old one is replicating from it.
   * @returns the new primary's port.
   */
  switchover(): Promise<number>;
  /** Sends `signal` to the current replica's process: SIGSTOP freezes it with its link open, SIGCONT resumes it. */
  signalReplica(signal: NodeJS.Signals): void;
  /** SIGKILLs the current replica and resolves once the primary lists no replica. */
  killReplica(): Promise<void>;
  /** Starts the current replica again, on its port, and resolves once it is in sync. */
  restartReplica(): Promise<void>;
  /** Stops every process and removes the data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Polls `check` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once the child logs `readyLine`; rejects if it exits first or stays silent for 10 s. */
async function waitForLog(child: ChildProcess, readyLine: string, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.includes(readyLine)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // Keep draining, or a chatty child blocks on a full pipe.
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${String(code)}: ${out}`));
    });
  });
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Runs one command on a short-lived connection to `port`. */
async function ask<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    return await fn(redis);
  } finally {
    // QUIT rather than disconnect(): the server closes the socket at once, so no close timer lingers.
    await redis.quit().catch(() => redis.disconnect());
  }
}

function redisArgs(port: number, dir: string, extra: string[] = []): string[] {
  return [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--dbfilename', `dump-${port}.rdb`,
    '--save', '',
    '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction',
    ...extra,
  ];
}

/**
 * Starts a primary, a replica of it and one Sentinel monitoring them (quorum 1,
 * `down-after-milliseconds` 1000, `failover-timeout` 3000), and waits until the replica is in sync and
 * Sentinel knows both.
 */
export async function startRedisSentinel(): Promise<TestRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-sentinel-'));
  const children = new Map<number, ChildProcess>();
  let sentinel: ChildProcess | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopChild(sentinel);
    await Promise.all([...children.values()].map((c) => stopChild(c)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    let master = await freePort();
    const startServer = async (port: number, extra: string[] = []): Promise<void> => {
      const child = reapOnExit(spawn('redis-server', redisArgs(port, dir, extra), { stdio: ['ignore', 'pipe', 'ignore'] }));
      children.set(port, child);
      await waitForLog(child, 'Ready to accept connections', `redis-server :${port}`);
    };
    await startServer(master);
    let replica = await freePort();
    await startServer(replica, ['--replicaof', '127.0.0.1', String(master)]);
    await until('the replica to sync', () => ask(replica, async (r) => (await r.info('replication')).includes('master_link_status:up')));

    const sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    // Sentinel rewrites its configuration file as it learns, so it must be a file of its own.
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 3000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinel = reapOnExit(spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'ignore'] }));
    await waitForLog(sentinel, 'Sentinel ID is', 'redis-sentinel');
    await until('Sentinel to know the primary and its replica', () =>
      ask(sentinelPort, async (s) => {
        const addr = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)) as string[] | null;
        const replicas = (await s.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as string[][];
        const known = replicas.some((fields) => fields.includes(String(replica)) && !fields.join(' ').includes('disconnected'));
        return addr?.[1] === String(master) && known;
      }),
    );

    return {
      sentinelPort,
      sentinelList: `127.0.0.1:${sentinelPort}`,
      name: SENTINEL_MASTER_NAME,
      masterPort: () => master,
      replicaPort: () => replica,
      async killMaster() {
        const victim = master;
        await stopChild(children.get(victim), 'SIGKILL');
        await until(
          'Sentinel to promote the replica',
          async () => {
            const addr = await ask(sentinelPort, (s) => s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME) as Promise<string[] | null>);
            if (addr?.[1] !== String(replica)) return false;
            return ask(replica, async (r) => (await r.info('replication')).includes('role:master'));
          },
          30_000,
        );
        master = replica;
        replica = victim;
        return master;
      },
      async switchover() {
        const [from, to] = [master, replica];
        await ask(sentinelPort, (s) => s.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME));
        await until(
          'the switchover to complete',
          async () => {
            const addr = await ask(sentinelPort, (s) => s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME) as Promise<string[] | null>);
            if (addr?.[1] !== String(to)) return false;
            const demoted = await ask(from, (r) => r.info('replication'));
            return demoted.includes('role:slave') && demoted.includes(`master_port:${to}`) && demoted.includes('master_link_status:up');
          },
          30_000,
        );
        master = to;
        replica = from;
        return master;
      },
      signalReplica(signal) {
        children.get(replica)?.kill(signal);
      },
      async killReplica() {
        await stopChild(children.get(replica), 'SIGKILL');
        await until('the primary to drop its replica', () => ask(master, async (r) => (await r.info('replication')).includes('connected_slaves:0')));
      },
      async restartReplica() {
        await startServer(replica, ['--replicaof', '127.0.0.1', String(master)]);
        await until('the replica to sync', () => ask(replica, async (r) => (await r.info('replication')).includes('master_link_status:up')));
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
