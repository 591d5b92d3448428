import { BaseCluster } from './base-cluster';
import type { NodeInfo, NodeRole, StopMode } from './cluster';
import type { NormalizedOptions } from './start-cluster-options';

/**
 * The `env` provider: servers someone else runs, named by `SPLIT_KNEX_PRIMARY_URL` and the
 * comma-separated `SPLIT_KNEX_REPLICA_URLS`. Queries and replication waits work; stopping,
 * pausing or promoting them does not, and `destroy()` leaves them running.
 *
 * @example
 * // SPLIT_KNEX_PRIMARY_URL=postgres://app:secret@db1:5432/app npm run test:integration
 * const cluster = EnvCluster.fromEnv(normalizeOptions());
 */
export class EnvCluster extends BaseCluster {
  readonly provider = 'env' as const;

  /** Builds the cluster from the environment; throws when `SPLIT_KNEX_PRIMARY_URL` is unset. */
  static fromEnv(options: NormalizedOptions): EnvCluster {
    const primaryUrl = process.env['SPLIT_KNEX_PRIMARY_URL'];
    if (!primaryUrl) throw new Error('the env provider needs SPLIT_KNEX_PRIMARY_URL (and optionally SPLIT_KNEX_REPLICA_URLS)');
    let urls = (process.env['SPLIT_KNEX_REPLICA_URLS'] ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (options.replicas !== undefined) {
      if (options.replicas > urls.length) {
        throw new Error(`replicas option asks for ${options.replicas} but SPLIT_KNEX_REPLICA_URLS names ${urls.length}`);
      }
      urls = urls.slice(0, options.replicas);
    }
    return new EnvCluster(
      parseNodeUrl(primaryUrl, 'primary', 'primary'),
      urls.map((url, i) => parseNodeUrl(url, `replica${i + 1}`, 'replica')),
      options.lagReplica,
    );
  }

  /** Wraps already-known nodes (e.g. a cluster another process started). */
  static fromNodes(primary: NodeInfo, replicas: NodeInfo[], lagReplica: boolean): EnvCluster {
    return new EnvCluster(primary, replicas, lagReplica);
  }

  stop(name: string, _mode?: StopMode): Promise<void> {
    return this.impossible('stop', name);
  }
  start(name: string): Promise<void> {
    return this.impossible('start', name);
  }
  pause(name: string): Promise<void> {
    return this.impossible('pause', name);
  }
  resume(name: string): Promise<void> {
    return this.impossible('resume', name);
  }
  promote(name: string): Promise<void> {
    return this.impossible('promote', name);
  }

  /** Nothing to do: the servers are not ours. */
  async destroy(): Promise<void> {}

  private async impossible(action: string, name: string): Promise<never> {
    this.node(name);
    throw new Error(
      `cannot ${action} ${name}: this cluster is attached by URL (SPLIT_KNEX_PRIMARY_URL, or a mocha --parallel ` +
        'worker) and does not control its servers; start a local or containers cluster for fault injection',
    );
  }
}

/** Parses a `postgres://user:password@host:port/db` URL into a {@link NodeInfo}. @internal */
export function parseNodeUrl(url: string, name: string, role: NodeRole): NodeInfo {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Do not echo the URL: it may hold a password.
    throw new Error(`the ${name} URL is not a valid postgres:// URL`);
  }
  const info: NodeInfo = {
    name,
    role,
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || 'postgres',
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    url,
  };
  if (parsed.password) info.password = decodeURIComponent(parsed.password);
  return info;
}
