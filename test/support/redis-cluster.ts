/**
 * Test harness: a real three-primary Redis Cluster on loopback, built the way an operator builds one
 * (`redis-server --cluster-enabled yes` on each node, then `redis-cli --cluster create`), started by the
 * suite that uses it and stopped afterwards.
 *
 * redis-server listens on the cluster bus at port + 10000, so a node needs two free ports. Ports are
 * drawn below the kernel's ephemeral range (32768+), where neither `freePort()` of other suites nor
 * outgoing connections land, so the pair cannot be taken from under us between the check and the start.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { reapOnExit } from './reap';

const run = promisify(execFile);

/** Offset redis-server adds to a node's port for its cluster bus. */
export const CLUSTER_BUS_OFFSET = 10000;

/** A node of the running cluster. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** A running cluster. */
export interface TestRedisCluster {
  nodes: ClusterNode[];
  /** `127.0.0.1:P1,127.0.0.1:P2,…`: the value of `REDIS_CLUSTER_NODES`. */
  nodeList: string;
  /**
   * Runs `fn` with a plain (non-cluster) connection to every node in turn — for per-node inspection such
   * as `KEYS`, `CLUSTER KEYSLOT` or `INFO errorstats` — and returns the results in node order.
   */
  eachNode<T>(fn: (node: Redis, port: number) => Promise<T>): Promise<T[]>;
  /** Stops every node (SIGTERM, waits for exit) and removes the data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Resolves when `port` can be bound on 127.0.0.1 (and releases it at once). */
async function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A port P in [12000, 22000) with P and P + 10000 both free, P not in `taken`.
 * @throws after 200 unlucky draws (the machine is out of ports: fail loudly rather than hang).
 */
export async function freeClusterPort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 12000 + Math.floor(Math.random() * 10000);
    if (taken.has(port) || taken.has(port + CLUSTER_BUS_OFFSET)) continue;
    if ((await canBind(port)) && (await canBind(port + CLUSTER_BUS_OFFSET))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

/** Resolves once the child logs that it accepts connections; rejects if it exits or is silent for 10 s. */
async function waitForReady(child: ChildProcess, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server :${port} did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server :${port} exited with ${String(code)}: ${out}`));
    });
  });
}

/** Polls `check` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts a Redis Cluster of `masters` primaries (no replicas) and waits until every node reports
 * `cluster_state:ok` and knows all the others, so the first command of a test is not refused.
 * @param masters number of primaries. @default 3 (the minimum `redis-cli --cluster create` accepts)
 */
export async function startRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(taken);
      taken.add(port).add(port + CLUSTER_BUS_OFFSET);
      ports.push(port);
      const child = reapOnExit(spawn(
        'redis-server',
        [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--dir', dir,
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '2000',
          '--appendonly', 'no',
          '--save', '',
          '--maxmemory-policy', 'noeviction',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ));
      children.push(child);
      await waitForReady(child, port);
    }

    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });

    const cluster = makeHandle(ports, stop);
    await until('cluster_state:ok on every node', async () => {
      const infos = await cluster.eachNode((node) => node.call('CLUSTER', 'INFO') as Promise<string>);
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`));
    });
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

function makeHandle(ports: number[], stop: () => Promise<void>): TestRedisCluster {
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    nodeList: ports.map((p) => `127.0.0.1:${p}`).join(','),
    async eachNode<T>(fn: (node: Redis, port: number) => Promise<T>): Promise<T[]> {
      const out: T[] = [];
      for (const port of ports) {
        const node = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => null });
        node.on('error', () => undefined);
        try {
          out.push(await fn(node, port));
        } finally {
          node.disconnect();
        }
      }
      return out;
    },
    stop,
  };
}
