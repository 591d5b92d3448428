// Mocha global fixture: one cluster (primary + 2 replicas, the last reserved for lag tests)
// for the whole run, shared by every spec file. Load with
//   mocha --require tsx/cjs --require test/support/global-fixture.ts …
import { getTestCluster, setTestCluster, startCluster } from './cluster';

/**
 * Starts the shared test cluster before any spec file runs; `getTestCluster()` returns it.
 *
 * @example
 * // .mocharc.integration.json: { "require": ["tsx/cjs", "test/support/global-fixture.ts"] }
 */
export async function mochaGlobalSetup(): Promise<void> {
  const began = Date.now();
  const cluster = await startCluster({ replicas: 2, lagReplica: true });
  setTestCluster(cluster);
  const ports = cluster.nodes.map((n) => `${n.name}:${n.port}`).join(' ');
  process.stderr.write(`[split-knex] ${cluster.provider} cluster ready in ${Date.now() - began} ms (${ports})\n`);
}

/** Stops the shared test cluster and removes its files. */
export async function mochaGlobalTeardown(): Promise<void> {
  let cluster;
  try {
    cluster = getTestCluster();
  } catch {
    return; // Setup failed; nothing to tear down.
  }
  setTestCluster(undefined);
  await cluster.destroy();
}
