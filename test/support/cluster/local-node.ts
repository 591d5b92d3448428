import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeInfo, NodeRole, StopMode } from './cluster';
import { baseSettings, renderConf, TRUST_HBA, type SettingValue } from './postgres-settings';
import { isAlive, signalProcessTree } from './process-tree';
import { messageOf } from './pg-client';
import { runCommand, runCommandSync } from './run-command';

/** Where a node's server binaries and files live. @internal */
export interface LocalNodeContext {
  /** Directory with initdb, pg_ctl, pg_basebackup, postgres. */
  bin: string;
  /** The cluster's temp dir: holds every data dir, log and the unix sockets. */
  root: string;
  /** Extra postgresql.conf settings from `startCluster({ settings })`. */
  settings: Readonly<Record<string, SettingValue>>;
}

/** Life-cycle state of a {@link LocalNode}. */
export type LocalNodeState = 'created' | 'running' | 'stopped' | 'paused';

/** `pg_ctl start` failed because something else holds the port; pick another and retry. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/**
 * One PostgreSQL server of the local provider: a data dir `<root>/<name>`, a log
 * `<root>/<name>.log`, and pg_ctl operations run as the `postgres` user.
 * @internal
 */
export class LocalNode {
  readonly info: NodeInfo;
  readonly dataDir: string;
  readonly logFile: string;
  state: LocalNodeState = 'created';

  constructor(
    private readonly ctx: LocalNodeContext,
    name: string,
    role: NodeRole,
    port: number,
    database: string,
  ) {
    this.dataDir = path.join(ctx.root, name);
    this.logFile = path.join(ctx.root, `${name}.log`);
    this.info = { name, role, host: '127.0.0.1', port, user: 'postgres', database, url: '' };
    this.setPort(port);
  }

  /** initdb a fresh primary and configure it for fast, trusting, replicating tests. */
  async initPrimary(): Promise<void> {
    await this.run('initdb', [
      ...['-D', this.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
      // 1 MB WAL segments instead of 16: each clone copies (and zero-fills) far less.
      '--wal-segsize=1',
    ]);
    const settings = baseSettings({ port: this.info.port, socketDir: this.ctx.root, name: this.info.name, extra: this.ctx.settings });
    fs.appendFileSync(path.join(this.dataDir, 'postgresql.conf'), renderConf(settings));
    fs.writeFileSync(path.join(this.dataDir, 'pg_hba.conf'), TRUST_HBA);
  }

  /** Clone `primary` with pg_basebackup (`-R`: standby.signal + primary_conninfo). */
  async cloneFrom(primary: LocalNode): Promise<void> {
    await this.run('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(primary.info.port), '-U', 'postgres', '-w'],
      ...['-D', this.dataDir, '-R', '-X', 'stream', '--no-sync'],
      // The default "spread" checkpoint can keep a basebackup waiting for many seconds;
      // the manifest's per-file checksums cost a third of the clone time and nobody reads them.
      ...['-c', 'fast', '--no-manifest'],
    ]);
    // The clone carries the primary's postgresql.conf; later lines win.
    fs.appendFileSync(path.join(this.dataDir, 'postgresql.conf'), renderConf({ port: this.info.port, cluster_name: this.info.name }));
  }

  /** Moves the node to `port` (before it starts); updates `info.port` and `info.url`. */
  setPort(port: number): void {
    this.info.port = port;
    this.info.url = `postgres://${this.info.user}@127.0.0.1:${port}/${this.info.database}`;
    if (fs.existsSync(path.join(this.dataDir, 'postgresql.conf'))) {
      fs.appendFileSync(path.join(this.dataDir, 'postgresql.conf'), renderConf({ port }));
    }
  }

  /**
   * `pg_ctl start -w`: resolves once the server accepts connections (a standby: once it
   * reached a consistent state). Throws {@link PortInUseError} when the port was taken.
   */
  async start(): Promise<void> {
    const logOffset = fileSize(this.logFile);
    try {
      await this.run('pg_ctl', ['start', '-D', this.dataDir, '-w', '-t', '30', '-l', this.logFile, '-s']);
    } catch (err) {
      const log = readFrom(this.logFile, logOffset);
      if (/could not bind|Address already in use/i.test(log)) {
        throw new PortInUseError(`${this.info.name}: port ${this.info.port} is already in use`);
      }
      throw new Error(`${this.info.name} did not start: ${messageOf(err)}\n${this.logTail()}`, { cause: err });
    }
    this.state = 'running';
  }

  /** `pg_ctl stop -w`; a paused node is resumed first, since a stopped process ignores SIGQUIT. */
  async stop(mode: StopMode): Promise<void> {
    if (this.state === 'paused') this.resume();
    if (this.postmasterPid() === undefined) {
      this.state = 'stopped';
      return;
    }
    try {
      await this.run('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '30', '-s']);
    } catch (err) {
      // Last resort so nothing outlives the harness; the data dir is disposable anyway.
      const pid = this.postmasterPid();
      if (pid === undefined || !isAlive(pid)) throw err;
      signalProcessTree(pid, 'SIGKILL');
    }
    this.state = 'stopped';
  }

  /** `pg_ctl promote -w`: resolves when the server has left recovery. */
  async promote(): Promise<void> {
    await this.run('pg_ctl', ['promote', '-D', this.dataDir, '-w', '-t', '30', '-s']);
  }

  /** SIGSTOP the postmaster, then every descendant. */
  pause(): void {
    const pid = this.requirePid('pause');
    signalProcessTree(pid, 'SIGSTOP');
    this.state = 'paused';
  }

  /** SIGCONT every descendant, then the postmaster. */
  resume(): void {
    const pid = this.postmasterPid();
    if (pid !== undefined) signalProcessTree(pid, 'SIGCONT');
    if (this.state === 'paused') this.state = 'running';
  }

  /** Synchronous immediate stop for `process.on('exit')`; never throws. */
  stopSync(): void {
    const pid = this.postmasterPid();
    if (pid === undefined) return;
    signalProcessTree(pid, 'SIGCONT');
    runCommandSync(path.join(this.ctx.bin, 'pg_ctl'), ['stop', '-D', this.dataDir, '-m', 'immediate', '-w', '-t', '10', '-s'], this.ctx.root);
    if (isAlive(pid)) signalProcessTree(pid, 'SIGKILL');
  }

  /** The postmaster PID from line 1 of `postmaster.pid`, when the file exists. */
  postmasterPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The last `lines` lines of the server log, for error messages. */
  logTail(lines = 15): string {
    const text = readFrom(this.logFile, 0).trimEnd();
    if (!text) return `(${this.logFile} is empty)`;
    return `--- last lines of ${this.logFile} ---\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  private requirePid(action: string): number {
    const pid = this.postmasterPid();
    if (pid === undefined || this.state === 'stopped') throw new Error(`cannot ${action} ${this.info.name}: it is not running`);
    return pid;
  }

  private run(binary: string, args: string[]): Promise<string> {
    return runCommand(path.join(this.ctx.bin, binary), args, { cwd: this.ctx.root, timeoutMs: 60_000 });
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    return fs.readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}
