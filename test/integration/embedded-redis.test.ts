import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { transformFileSync } from '@swc/core';
import { Redis } from 'ioredis';
import { EmbeddedRedisError, isRunning, startEmbeddedRedis, type EmbeddedRedis } from '../../bin/embedded-redis';
import { freePort, removeDir } from '../support/redis-server';

const dirs: string[] = [];
const pids: number[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gk-embedded-'));
  dirs.push(dir);
  return dir;
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 50) {
    if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function withClient<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Whether anything accepts connections on the port. */
async function accepts(url: string): Promise<boolean> {
  return withClient(url, async (redis) => {
    try {
      return (await redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  });
}

afterAll(() => {
  for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of dirs) removeDir(dir);
});

describe('startEmbeddedRedis', () => {
  let redis: EmbeddedRedis | undefined;
  const dataDir = tempDir();

  afterEach(async () => {
    await redis?.stop();
  });

  it('starts redis-server on loopback with append-only on and noeviction, and stops it leaving no process', async () => {
    redis = await startEmbeddedRedis(dataDir, { handleSignals: false });
    pids.push(redis.pid);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);

    await withClient(redis.url, async (client) => {
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'dir')).toEqual(['dir', resolve(dataDir, 'redis')]);
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      await client.set('gk:test', 'kept');
    });
    expect(existsSync(join(dataDir, 'redis', 'appendonlydir'))).toBe(true);
    expect(Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'))).toBe(redis.pid);

    const { pid, url } = redis;
    await redis.stop();
    await redis.stop(); // twice is harmless
    expect(isRunning(pid)).toBe(false);
    expect(await accepts(url)).toBe(false);
    expect(existsSync(join(dataDir, 'redis', 'redis.pid'))).toBe(false);
  });

  it('keeps the data across restarts (append-only file)', async () => {
    redis = await startEmbeddedRedis(dataDir, { handleSignals: false });
    pids.push(redis.pid);
    expect(await withClient(redis.url, (client) => client.get('gk:test'))).toBe('kept');
  });

  it('ends a redis-server left running on the same data directory by a parent that was killed', async () => {
    const dir = tempDir();
    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir);
    const port = await freePort();
    const leftover: ChildProcess = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', tmpdir(), '--save', '', '--pidfile', join(redisDir, 'redis.pid')],
      { stdio: 'ignore', detached: true },
    );
    const leftoverPid = leftover.pid ?? -1;
    pids.push(leftoverPid);
    leftover.unref();
    await waitUntil(() => existsSync(join(redisDir, 'redis.pid')), 'the leftover pidfile');

    redis = await startEmbeddedRedis(dir, { handleSignals: false });
    pids.push(redis.pid);
    await waitUntil(() => !isRunning(leftoverPid), 'the leftover redis-server to end');
    expect(redis.pid).not.toBe(leftoverPid);
    expect(await accepts(redis.url)).toBe(true);
  });

  it('removes a stale pidfile whose process is gone', async () => {
    const dir = tempDir();
    const pidfile = join(dir, 'redis', 'redis.pid');
    redis = await startEmbeddedRedis(dir, { handleSignals: false });
    pids.push(redis.pid);
    await redis.stop();
    // A pid that no longer runs (the one just stopped).
    writeFileSync(pidfile, String(redis.pid));
    redis = await startEmbeddedRedis(dir, { handleSignals: false });
    pids.push(redis.pid);
    expect(Number(readFileSync(pidfile, 'utf8'))).toBe(redis.pid);
  });

  it('explains in one line how to install redis-server when it is missing', async () => {
    const attempt = startEmbeddedRedis(tempDir(), { redisServer: 'redis-server-not-installed-here' });
    await expect(attempt).rejects.toBeInstanceOf(EmbeddedRedisError);
    await expect(attempt).rejects.toMatchObject({ code: 'redis-server-missing' });
    const message = await attempt.catch((err: Error) => err.message);
    expect(message).not.toContain('\n');
    expect(message).toMatch(/run `.*(apt-get install -y redis-server|brew install redis|redis-server)`/);
  });
});

describe('the redis-server never outlives its parent', () => {
  let script: string;

  beforeAll(() => {
    // Run the real module in a separate Node process, compiled the way Jest compiles it (swc).
    const dir = tempDir();
    const { code } = transformFileSync(join(__dirname, '..', '..', 'bin', 'embedded-redis.ts'), {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    writeFileSync(join(dir, 'embedded-redis.js'), code);
    script = join(dir, 'parent.js');
    writeFileSync(
      script,
      `const { startEmbeddedRedis } = require('./embedded-redis.js');
       const [dataDir, mode] = process.argv.slice(2);
       startEmbeddedRedis(dataDir).then((redis) => {
         process.stdout.write(JSON.stringify({ pid: redis.pid }) + '\\n');
         if (mode === 'exit') process.exit(0);
         if (mode === 'throw') setTimeout(() => { throw new Error('crash'); }, 10);
         setInterval(() => undefined, 1000);
       });`,
    );
  });

  async function runParent(mode: string): Promise<{ parent: ChildProcess; redisPid: number }> {
    const parent = spawn(process.execPath, [script, tempDir(), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const redisPid = await new Promise<number>((resolvePid, reject) => {
      let out = '';
      parent.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolvePid((JSON.parse(line) as { pid: number }).pid);
      });
      parent.once('exit', (code) => {
        if (!out.includes('{')) reject(new Error(`parent exited (${code}) before starting redis`));
      });
    });
    pids.push(redisPid);
    return { parent, redisPid };
  }

  it.each(['exit', 'throw'])('when the parent ends by %s', async (mode) => {
    const { parent, redisPid } = await runParent(mode);
    await new Promise((r) => parent.once('exit', r));
    await waitUntil(() => !isRunning(redisPid), 'redis-server to end');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('when the parent gets %s', async (signal) => {
    const { parent, redisPid } = await runParent('wait');
    expect(isRunning(redisPid)).toBe(true);
    const exited = new Promise<NodeJS.Signals | null>((r) => parent.once('exit', (_code, sig) => r(sig)));
    parent.kill(signal);
    // The signal still ends the parent as it would have without the handler.
    expect(await exited).toBe(signal);
    await waitUntil(() => !isRunning(redisPid), 'redis-server to end');
  });
});
