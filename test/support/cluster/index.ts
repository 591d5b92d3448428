// Test/demo cluster harness: a PostgreSQL primary with streaming replicas, fault injection,
// and cleanup. See cluster.ts for the API and start-cluster.ts for provider selection.
export type { Cluster, NodeInfo, NodeRole, ProviderName, QueryOptions, StopMode } from './cluster';
export type { StartClusterOptions } from './start-cluster-options';
export type { SettingValue } from './postgres-settings';
export { startCluster } from './start-cluster';
export { getTestCluster, setTestCluster } from './test-cluster';
