import type { Cluster } from '../test/support/cluster';

/**
 * Runs one cluster benchmark on its own (`npx tsx bench/<name>.ts`): starts a primary and
 * 2 replicas, prints the formatted result, and always destroys the cluster.
 *
 * @example
 * if (require.main === module) runStandalone(benchCache, formatCacheBench);
 */
export function runStandalone<T>(bench: (cluster: Cluster) => Promise<T>, format: (result: T) => string): void {
  (async () => {
    const { startCluster } = await import('../test/support/cluster');
    const cluster = await startCluster({ replicas: 2 });
    try {
      console.log(format(await bench(cluster)));
    } finally {
      await cluster.destroy();
    }
  })().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
