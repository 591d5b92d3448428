// The Patroni lane's harness: a real Patroni + etcd cluster on loopback (see README.md).
export { PatroniCluster, type PatroniClusterOptions } from './patroni-cluster';
export { PatroniMember } from './patroni-member';
export type { PatroniClusterJson, PatroniClusterMember, PatroniStatusJson } from './patroni-rest';
export { WriteProbe, type FirstWrite } from './write-probe';
