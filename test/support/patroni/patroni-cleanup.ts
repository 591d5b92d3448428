import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerExitCleanup, shellQuote, startWatchdog } from '../cluster/exit-cleanup';
import { asPostgres } from '../cluster/run-command';

/**
 * Makes sure a lane cluster in `root` is stopped however this process ends: a synchronous
 * exit/signal hook, and a detached watchdog shell for SIGKILL and OOM. Both read the pid
 * files in `root` (`etcd.pid`, `n1.pid`, …) and every `<member>/data/postmaster.pid`, so
 * members added or restarted later are covered too. Returns the function that disarms both
 * (call it after a normal teardown).
 *
 * @example
 * const disarm = armCleanup(root, binDir);
 */
export function armCleanup(root: string, binDir: string): () => void {
  const cancelWatchdog = startWatchdog(watchdogScript(root, binDir));
  const unregister = registerExitCleanup(() => {
    stopEverythingSync(root, binDir);
    cancelWatchdog();
  });
  return () => {
    unregister();
    cancelWatchdog();
  };
}

// Order matters: Patroni first (SIGKILL: it would restart a postgres we stop), then each
// postmaster left behind (its parent is PID 1, not Patroni), then etcd, then the files.
function stopEverythingSync(root: string, binDir: string): void {
  const pidFiles = safeList(root).filter((f) => f.endsWith('.pid'));
  for (const file of pidFiles.filter((f) => f !== 'etcd.pid')) killFromFile(path.join(root, file));
  for (const dir of safeList(root)) {
    const data = path.join(root, dir, 'data');
    if (!fs.existsSync(path.join(data, 'postmaster.pid'))) continue;
    const [cmd, ...args] = asPostgres(path.join(binDir, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '10']);
    spawnSync(cmd, args, { cwd: '/', stdio: 'ignore', timeout: 15_000 });
  }
  killFromFile(path.join(root, 'etcd.pid'));
  fs.rmSync(root, { recursive: true, force: true });
}

function killFromFile(file: string): void {
  const pid = Number(safeRead(file).trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function watchdogScript(root: string, binDir: string): string {
  const r = shellQuote(root);
  const pgCtl = asPostgres(path.join(binDir, 'pg_ctl'), []).map(shellQuote).join(' ');
  // A pid is signalled only while its command line still names patroni or etcd: a pid
  // recycled by an unrelated process after ours died is left alone.
  const killPid = (file: string) =>
    `p=$(cat ${file} 2>/dev/null) && grep -qaE 'patroni|etcd' /proc/$p/cmdline 2>/dev/null && kill -9 "$p"`;
  return [
    `for f in ${r}/n*.pid; do ${killPid('"$f"')}; done`,
    `for d in ${r}/*/data; do`,
    '  [ -f "$d/postmaster.pid" ] || continue',
    `  ${pgCtl} stop -D "$d" -m immediate -w -t 10 >/dev/null 2>&1 || kill -9 "$(head -n 1 "$d/postmaster.pid")" 2>/dev/null`,
    'done',
    `${killPid(`${r}/etcd.pid`)}`,
    `rm -rf ${r}`,
  ].join('\n');
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
