/**
 * What the soak and scale benchmarks run against, started the way an operator would: a `redis-server`
 * (append-only, `noeviction`, as `npm start` runs its embedded one), Gatekeeper as real processes
 * (`node dist/bin/gatekeeper.js --role …`), and an outbound relay (an smtp-server in this process that
 * counts what it is given and discards it). Plus the /proc readings both report: resident memory and CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../measure';

/** The repository root (this file runs as dist/bench/soak/stack.js). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** A process this module started. */
export interface Child {
  pid: number;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** A running redis-server. */
export interface RedisChild extends Child {
  url: string;
}

/** Starts redis-server on a free port with its data in `dir`, append-only as the embedded one runs. */
export async function startRedisServer(dir: string): Promise<RedisChild> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolveReady, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolveReady();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return { pid: child.pid!, url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/** A running Gatekeeper process. */
export interface GatekeeperChild extends Child {
  port: number;
  url: string;
  smtpPort: number;
  /** Log lines at level `error` (and anything not JSON, e.g. a crash) so far. */
  errorLines(): string[];
  /** Log lines so far. */
  lineCount(): number;
}

/**
 * Starts `node dist/bin/gatekeeper.js --role <roles>` on free ports and waits until it is listening (and,
 * with a gateway, until `/readyz` answers 200).
 */
export async function spawnGatekeeper(roles: string, env: Record<string, string>): Promise<GatekeeperChild> {
  const port = Number(env.PORT ?? (await freePort()));
  const smtpPort = Number(env.SMTP_PORT ?? (await freePort()));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bin', 'gatekeeper.js'), '--role', roles], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env, PORT: String(port), SMTP_PORT: String(smtpPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  let lines = 0;
  let listening = false;
  let partial = '';
  const onData = (chunk: Buffer): void => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      lines += 1;
      if (line.includes('"message":"Gatekeeper listening"')) listening = true;
      if (!line.startsWith('{') || line.includes('"level":"error"')) errors.push(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 60_000;
  const url = `http://127.0.0.1:${port}`;
  // With a gateway, ready is /readyz answering 200 (the "listening" line is at info, which LOG_LEVEL may hide).
  const wantsReady = roles.split(',').some((r) => r === 'gateway' || r === 'all');
  for (;;) {
    if (exited) throw new Error(`gatekeeper --role ${roles} exited during start-up:\n${errors.join('\n')}`);
    if (wantsReady ? await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false) : listening) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`gatekeeper --role ${roles} did not start within 60 s:\n${errors.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, port, url, smtpPort, stop: () => stopChild(child), errorLines: () => [...errors], lineCount: () => lines };
}

/** The outbound relay: counts messages per recipient, keeps no bodies. */
export interface CountingRelay {
  url: string;
  /** Messages accepted, in total or for one recipient. */
  count(rcpt?: string): number;
  /** Messages accepted per recipient. */
  recipients(): ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** Starts the counting relay. */
export async function startCountingRelay(): Promise<CountingRelay> {
  const perRecipient = new Map<string, number>();
  let total = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 100 * 1024 * 1024,
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        total += 1;
        for (const r of session.envelope.rcptTo) perRecipient.set(r.address, (perRecipient.get(r.address) ?? 0) + 1);
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: (rcpt) => (rcpt === undefined ? total : (perRecipient.get(rcpt) ?? 0)),
    recipients: () => new Map(perRecipient),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Resident set size of a process in bytes (VmRSS), 0 when it cannot be read. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The `p`-th percentile (0–100) of ascending-sorted values; `NaN` for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Megabytes, one decimal. */
export function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
