import { execFileSync } from 'child_process';
import * as os from 'os';
import type { Cluster } from '../test/support/cluster';

/** What the report says about where it ran. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  provider: string;
  knex: string;
  pg: string;
  splitKnex: string;
  commit: string;
  /** 1-minute load average when the run started: other processes share the machine. */
  loadAtStart: number;
}

/**
 * Describes the machine, the versions and the cluster of a bench run.
 *
 * @example
 * const info = await machineInfo(cluster); info.cpu // 'AMD EPYC'
 */
export async function machineInfo(cluster: Cluster): Promise<MachineInfo> {
  const [row] = await cluster.query<{ version: string }>('primary', "select current_setting('server_version') as version");
  const pkg = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  let commit = '?';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? '?',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    postgres: row?.version ?? '?',
    provider: cluster.provider,
    knex: pkg('knex'),
    pg: pkg('pg'),
    splitKnex: (require('../package.json') as { version: string }).version,
    commit,
    loadAtStart: os.loadavg()[0] ?? 0,
  };
}
