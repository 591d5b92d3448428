import { getTestCluster, type NodeInfo } from './cluster';
import { destroyAll } from './split-db';

/**
 * Mocha hooks for a suite that reads through the shared cluster's lag replica: `setup` runs
 * first with the lag replica (tables…), every replica catches up, then the lag replica gets `delayMs` of apply
 * delay; after the suite the delay is always removed and the suite's instances destroyed.
 * Returns a getter for the lag replica.
 *
 * @example
 * const lag = useLaggingReplica(300, async () => { await createTables(); });
 * it('…', () => makeDb({ replicas: [{ name: lag().name, connection: lag().url }] }));
 */
export function useLaggingReplica(delayMs: number, setup: (lag: NodeInfo) => Promise<void> = async () => undefined): () => NodeInfo {
  let lag: NodeInfo | undefined;
  before(async () => {
    const cluster = getTestCluster();
    lag = cluster.lagReplica!;
    await setup(lag);
    await cluster.waitForReplication(30_000, cluster.replicas.map((r) => r.name));
    await cluster.setApplyDelay(lag.name, delayMs);
  });
  after(async () => {
    try {
      if (lag !== undefined) await getTestCluster().setApplyDelay(lag.name, 0);
    } finally {
      await destroyAll();
    }
  });
  return () => {
    if (lag === undefined) throw new Error('useLaggingReplica: the suite has not started');
    return lag;
  };
}
