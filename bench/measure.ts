/**
 * What every benchmark measures with: a free loopback port, CPU seconds from /proc (of a process, or of
 * one of its threads, and of the whole machine), and medians. Linux's /proc; elsewhere the CPU readings
 * are `NaN`, which the reports print as such.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolvePort(addr.port));
    });
  });
}

/**
 * User and system CPU seconds of a process (or, with `thread`, of one of its threads: a process's main
 * thread has the process's id), from /proc; `NaN` where there is none.
 */
export function cpuSplit(pid: number | undefined, thread?: number): { user: number; system: number } {
  if (pid === undefined) return { user: Number.NaN, system: Number.NaN };
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm) ".
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}

/** CPU seconds (user + system) a process, or one of its threads, has used; `NaN` where there is none. */
export function cpuSeconds(pid: number | undefined, thread?: number): number {
  const { user, system } = cpuSplit(pid, thread);
  return user + system;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat; `NaN` where there is none. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The median of the values that are numbers (`NaN` readings are left out); `NaN` for none. */
export function median(xs: readonly number[]): number {
  const sorted = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
