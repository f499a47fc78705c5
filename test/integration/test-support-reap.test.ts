/**
 * The test harness's safety net (test/support/reap.ts): a process a test started and did not stop is
 * killed when the test process exits, so a failed suite leaves no redis-server behind on the machine.
 * Run for real: a separate Node process (the module compiled as Jest compiles it) starts a long-lived
 * child through it and exits; the child must be gone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformFileSync } from '@swc/core';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gk-reap-'));
  const { code } = transformFileSync(join(__dirname, '..', 'support', 'reap.ts'), {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  writeFileSync(join(dir, 'reap.js'), code);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Whether the process is alive: exists and is not a zombie (killed, waiting for a reaper that may never come here). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Runs a parent that starts `sleep 60` (reaped or not), prints its pid and exits; returns the pid. */
function orphanOf(reaped: boolean): number {
  const script = join(dir, `parent-${String(reaped)}.js`);
  writeFileSync(
    script,
    `const { spawn } = require('node:child_process');
     const { reapOnExit } = require('./reap.js');
     const child = spawn('sleep', ['60'], { stdio: 'ignore' });
     ${reaped ? 'reapOnExit(child);' : ''}
     process.stdout.write(String(child.pid));
     setTimeout(() => process.exit(0), 100);`,
  );
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  return Number(result.stdout);
}

it('kills a child still running when the test process exits', async () => {
  const pid = orphanOf(true);
  expect(pid).toBeGreaterThan(0);
  for (let i = 0; i < 50 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 20));
  expect(isRunning(pid)).toBe(false);
});

it('is what makes the difference: without it the child outlives its parent', () => {
  const pid = orphanOf(false);
  try {
    expect(isRunning(pid)).toBe(true);
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});
