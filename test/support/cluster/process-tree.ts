import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Sends `signal` to `pid` and every process descended from it. For SIGSTOP the parent is
 * signalled first (so it forks nothing new meanwhile); for anything else, the children first.
 * Returns how many processes were signalled.
 *
 * @example
 * signalProcessTree(postmasterPid, 'SIGSTOP');
 */
export function signalProcessTree(pid: number, signal: NodeJS.Signals): number {
  const parentFirst = signal === 'SIGSTOP';
  let count = 0;
  if (parentFirst) count += trySignal(pid, signal);
  for (const child of descendants(pid)) count += trySignal(child, signal);
  if (!parentFirst) count += trySignal(pid, signal);
  return count;
}

/** Every process descended from `pid` (children before grandchildren). */
export function descendants(pid: number): number[] {
  const parents = parentMap();
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    for (const [child, parent] of parents) {
      if (parent === current) {
        result.push(child);
        queue.push(child);
      }
    }
  }
  return result;
}

/** True when `pid` names a live process. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function trySignal(pid: number, signal: NodeJS.Signals): number {
  try {
    process.kill(pid, signal);
    return 1;
  } catch {
    return 0; // Exited meanwhile.
  }
}

// child pid → parent pid, from /proc (Linux) or `ps` elsewhere.
function parentMap(): Map<number, number> {
  const map = new Map<number, number>();
  let entries: string[] | undefined;
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    entries = undefined;
  }
  if (entries) {
    for (const entry of entries) {
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        // The command name may contain spaces and parentheses; fields resume after the last ')'.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        map.set(Number(entry), ppid);
      } catch {
        // Exited while we were reading.
      }
    }
    return map;
  }
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid !== undefined && ppid !== undefined && !Number.isNaN(pid)) map.set(pid, ppid);
  }
  return map;
}
