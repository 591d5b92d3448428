/**
 * Topology discovery: where the cluster's shape comes from (Patroni's REST API, the
 * primary's pg_stat_replication, a user callback) and how a session learns that its server
 * was promoted (`in_hot_standby`). Pure of the router: nothing here routes a query.
 *
 * @example
 * import { PatroniTopology } from './topology';
 */
export type { PlannedStop, Topology, TopologyMember, TopologyRole, TopologySource } from './topology-source';
export { TopologyError } from './topology-error';
export { checkTopology } from './check-topology';
export { PatroniTopology, topologyFromPatroniCluster } from './patroni-topology';
export type { PatroniTopologyOptions } from './patroni-topology';
export { ReplicationTopology } from './replication-topology';
export type { ReplicationTopologyOptions, ReplicationRow, HostPort } from './replication-topology';
export { callbackTopology } from './callback-topology';
export type { TopologyCallbackResult } from './callback-topology';
export { watchHotStandby } from './hot-standby-watch';
export type { HotStandbyWatch, HotStandbyListener, HotStandbyWatchable } from './hot-standby-watch';
