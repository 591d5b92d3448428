import type { Cluster, NodeInfo, ProviderName } from './cluster';
import { EnvCluster } from './env-cluster';

// On globalThis, not in a module variable: mocha may load the global fixture through a
// different loader (ESM vs CJS) than the spec files, which gives two copies of this module.
const KEY = Symbol.for('split-knex.test-cluster');
// For mocha --parallel workers: they inherit the environment, not the object.
const ENV = 'SPLIT_KNEX_TEST_CLUSTER';

interface Shared {
  provider: ProviderName;
  primary: NodeInfo;
  replicas: NodeInfo[];
  lagReplica?: string;
}

/**
 * Makes `cluster` the one `getTestCluster()` returns (the global fixture calls this);
 * `undefined` forgets it.
 *
 * @example
 * setTestCluster(await startCluster({ lagReplica: true }));
 */
export function setTestCluster(cluster: Cluster | undefined): void {
  (globalThis as Record<symbol, unknown>)[KEY] = cluster;
  if (cluster) {
    const shared: Shared = {
      provider: cluster.provider,
      primary: cluster.primary,
      replicas: cluster.replicas,
      lagReplica: cluster.lagReplica?.name,
    };
    process.env[ENV] = JSON.stringify(shared);
  } else {
    delete process.env[ENV];
  }
}

/**
 * The cluster started by the mocha global fixture (test/support/global-fixture.ts).
 * In a `--parallel` worker it is rebuilt from the environment and cannot inject faults.
 *
 * @example
 * const { primary, replicas } = getTestCluster();
 */
export function getTestCluster(): Cluster {
  const existing = (globalThis as Record<symbol, unknown>)[KEY] as Cluster | undefined;
  if (existing) return existing;
  const raw = process.env[ENV];
  if (raw) {
    const shared = JSON.parse(raw) as Shared;
    const cluster = EnvCluster.fromNodes(shared.primary, shared.replicas, shared.lagReplica !== undefined);
    (globalThis as Record<symbol, unknown>)[KEY] = cluster;
    return cluster;
  }
  throw new Error(
    'no test cluster: run mocha with --require tsx/cjs --require test/support/global-fixture.ts ' +
      '(or the integration config), or call startCluster() yourself',
  );
}
