import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { isAlive } from '../cluster/process-tree';
import { mustSwitchUser, serverEnv } from '../cluster/run-command';
import { sleep } from '../cluster/poll';

let postgresIds: { uid: number; gid: number } | undefined;

/**
 * A long-running process of the lane (etcd or one Patroni member), run as the `postgres`
 * user when we are root. Spawned with uid/gid rather than through `runuser`, so `pid` is
 * the daemon's own pid (runuser forks, and killing it would leave the daemon running).
 * Its pid is also written to `pidFile`, which the exit watchdog reads.
 *
 * @example
 * const etcd = Daemon.start('etcd', args, { cwd: root, logFile: `${root}/etcd.log`, pidFile: `${root}/etcd.pid` });
 */
export class Daemon {
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly pid: number,
    private readonly pidFile: string,
    child: ReturnType<typeof spawn>,
  ) {
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        fs.rmSync(pidFile, { force: true });
        resolve();
      });
    });
  }

  /** Starts `file args…` in its own session (setsid), stdout and stderr appended to `logFile`. */
  static start(file: string, args: readonly string[], options: { cwd: string; logFile: string; pidFile: string }): Daemon {
    const log = fs.openSync(options.logFile, 'a');
    try {
      const ids = mustSwitchUser() ? postgresUser() : undefined;
      const env = { ...serverEnv(), ...(ids ? { HOME: '/var/lib/postgresql', USER: 'postgres', LOGNAME: 'postgres' } : {}) };
      const child = spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', log, log], ...ids });
      if (child.pid === undefined) throw new Error(`cannot start ${file} (not installed? run sh scripts/install-patroni.sh); see ${options.logFile}`);
      child.unref();
      child.on('error', () => undefined);
      fs.writeFileSync(options.pidFile, `${child.pid}\n`);
      return new Daemon(child.pid, options.pidFile, child);
    } finally {
      fs.closeSync(log);
    }
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return !this.exited && isAlive(this.pid);
  }

  /** Resolves once the process has exited. */
  waitForExit(): Promise<void> {
    return this.exitPromise;
  }

  /** SIGKILL, without waiting. */
  kill(): void {
    if (!this.exited) trySignal(this.pid, 'SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once it has exited. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    trySignal(this.pid, 'SIGTERM');
    const exited = await Promise.race([this.exitPromise.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!exited) {
      trySignal(this.pid, 'SIGKILL');
      await this.exitPromise;
    }
  }
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function postgresUser(): { uid: number; gid: number } {
  postgresIds ??= {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
  return postgresIds;
}
