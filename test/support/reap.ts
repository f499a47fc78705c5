/**
 * A safety net for the processes tests start (redis-server, Sentinel, gateway processes): when the test
 * process exits with one still running — a suite that failed before its `afterAll`, a worker that jest
 * stopped — it is killed, instead of outliving the run and holding its port and memory on the machine.
 * Stopping them in `afterAll` stays each suite's job; this only catches what that missed.
 */
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
let hooked = false;

/** Kills `child` (SIGKILL) if it is still running when this process exits; returns it. */
export function reapOnExit<T extends ChildProcess>(child: T): T {
  if (!hooked) {
    hooked = true;
    // 'exit' handlers run synchronously: kill() is, and a SIGKILL needs nothing more from us.
    process.once('exit', () => {
      for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}
