import * as fs from 'node:fs';
import * as path from 'node:path';
import { descendants, isAlive } from '../cluster/process-tree';
import { Daemon } from './daemon';
import { patroniYaml, type PatroniClusterSpec, type PatroniMemberSpec } from './patroni-config';

// Patroni's own shutdown stops PostgreSQL first; the reference measured ~2 s per member.
const STOP_TIMEOUT_MS = 30_000;

/**
 * One Patroni member of a lane cluster: its config `<root>/<name>.yml`, its log
 * `<root>/<name>.log` (Patroni's lines and PostgreSQL's stderr), its data dir and the
 * Patroni process. PostgreSQL is Patroni's business, except when a test kills the machine.
 *
 * @example
 * const n4 = new PatroniMember(cluster, { name: 'n4', pgPort, apiPort, dir: `${root}/n4` });
 * n4.start();
 */
export class PatroniMember {
  readonly name: string;
  readonly host = '127.0.0.1';
  readonly pgPort: number;
  readonly apiPort: number;
  /** `http://127.0.0.1:<apiPort>`: the REST API's base URL. */
  readonly apiUrl: string;
  /** A libpq URL (trust authentication, no password). */
  readonly pgUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  private readonly configFile: string;
  private daemon: Daemon | undefined;

  constructor(
    private readonly cluster: PatroniClusterSpec,
    spec: PatroniMemberSpec,
  ) {
    this.name = spec.name;
    this.pgPort = spec.pgPort;
    this.apiPort = spec.apiPort;
    this.apiUrl = `http://127.0.0.1:${spec.apiPort}`;
    this.pgUrl = `postgres://postgres@127.0.0.1:${spec.pgPort}/postgres`;
    this.dataDir = path.join(spec.dir, 'data');
    this.logFile = path.join(cluster.root, `${spec.name}.log`);
    this.configFile = path.join(cluster.root, `${spec.name}.yml`);
    fs.mkdirSync(spec.dir, { mode: 0o700 });
    fs.writeFileSync(this.configFile, patroniYaml(cluster, spec));
    chownToPostgres(spec.dir, this.configFile);
  }

  /** True while this member's Patroni process runs. */
  get running(): boolean {
    return this.daemon?.alive ?? false;
  }

  /** Starts Patroni (it bootstraps, clones, or rejoins by pg_rewind on its own). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.daemon?.waitForExit(); // Its exit removes the pid file; never after the new one is written.
    this.daemon = Daemon.start('patroni', [this.configFile], {
      cwd: this.cluster.root,
      logFile: this.logFile,
      pidFile: path.join(this.cluster.root, `${this.name}.pid`),
    });
  }

  /** SIGTERM to Patroni, which stops PostgreSQL cleanly; resolves once Patroni has exited. */
  async stop(): Promise<void> {
    await this.daemon?.stop(STOP_TIMEOUT_MS);
  }

  /**
   * A lost machine: SIGKILL to Patroni, the postmaster and every PostgreSQL backend at once.
   * Returns how many processes were signalled.
   */
  kill(): number {
    const postmaster = this.postmasterPid();
    const patroni = this.daemon?.alive ? this.daemon.pid : undefined;
    const victims = [patroni, postmaster].flatMap((pid) => (pid === undefined ? [] : [pid, ...descendants(pid)]));
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
    return victims.length;
  }

  /** Resolves once the Patroni process is gone (after {@link kill} or {@link stop}). */
  async waitForExit(): Promise<void> {
    await this.daemon?.waitForExit();
  }

  /** The live postmaster's pid from `postmaster.pid`, if any. */
  postmasterPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 1 && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The last `lines` lines of the member's log, for error messages. */
  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Hands files to the `postgres` user when we are root (Patroni runs as postgres). @internal */
export function chownToPostgres(...files: string[]): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  const owner = fs.statSync(path.dirname(files[0] as string));
  for (const file of files) fs.chownSync(file, owner.uid, owner.gid);
}
