import type { Cluster, ProviderName } from './cluster';
import { ContainerCluster } from './container-cluster';
import { dockerReachable } from './docker-reachable';
import { EnvCluster } from './env-cluster';
import { LocalCluster } from './local-cluster';
import { findPgBinDir } from './pg-binaries';
import { messageOf } from './pg-client';
import { normalizeOptions, type NormalizedOptions, type StartClusterOptions } from './start-cluster-options';

/**
 * Starts a PostgreSQL primary with streaming replicas (default 2) and resolves once every
 * replica streams. Call it again for a separate throwaway cluster (its own temp dir and
 * ports) when a test stops or promotes nodes; always `destroy()` what you start.
 *
 * Provider order for `auto`: env (`SPLIT_KNEX_PRIMARY_URL`), then local when PostgreSQL
 * server binaries are installed (fast, and what CI runs), then containers when a Docker
 * engine answers and the image is built. `SPLIT_KNEX_PROVIDER` sets the provider when the
 * option does not (`npm run test:containers` sets `containers`).
 *
 * @example
 * const cluster = await startCluster({ replicas: 1 });
 * try {
 *   await cluster.promote('replica1');
 * } finally {
 *   await cluster.destroy();
 * }
 */
export async function startCluster(options?: StartClusterOptions): Promise<Cluster> {
  const normalized = normalizeOptions(options);
  const provider = await chooseProvider(normalized);
  if (provider === 'env') return EnvCluster.fromEnv(normalized);
  if (provider === 'local') return LocalCluster.start(normalized);
  if (normalized.provider === 'containers') return ContainerCluster.start(normalized);
  try {
    return await ContainerCluster.start(normalized);
  } catch (err) {
    normalized.log(`containers provider failed (${messageOf(err)}); falling back to local`);
    return LocalCluster.start(normalized);
  }
}

async function chooseProvider(options: NormalizedOptions): Promise<ProviderName> {
  if (options.provider !== 'auto') return options.provider;
  if (process.env['SPLIT_KNEX_PRIMARY_URL']) return 'env';
  if (localBinariesAvailable()) return 'local';
  if ((await dockerReachable()) && (await ContainerCluster.available())) return 'containers';
  return 'local';
}

function localBinariesAvailable(): boolean {
  try {
    findPgBinDir();
    return true;
  } catch {
    return false;
  }
}
