/** What every member of one Patroni cluster shares. */
export interface PatroniClusterSpec {
  /** Patroni's `scope`: the cluster's name in etcd. */
  scope: string;
  /** The temp dir holding every member's dir, config and log, etcd's data and the sockets. */
  root: string;
  /** etcd's client port on 127.0.0.1 (its peer port is separate, see {@link etcdArgs}). */
  etcdPort: number;
  /** PostgreSQL server binaries (initdb, pg_ctl, pg_rewind, …). */
  binDir: string;
  /** Leader lease, Patroni loop and DCS retry, in seconds: used when the cluster bootstraps. */
  ttl: number;
  loopWait: number;
  retryTimeout: number;
}

/** One member's own ports and files. */
export interface PatroniMemberSpec {
  /** `n1`, `n2`, …: Patroni also uses it as the replication `application_name`. */
  name: string;
  pgPort: number;
  apiPort: number;
  /** `<root>/<name>`: holds `data/` and `pgpass`. */
  dir: string;
}

/**
 * The YAML config of one Patroni member, as verified with Patroni 3.0.2 and etcd 3.4
 * (etcd's v3 API; trust authentication on loopback; pg_rewind so a killed leader rejoins).
 * The `bootstrap.dcs` part is written to etcd once, by the member that bootstraps.
 *
 * @example
 * fs.writeFileSync(`${root}/n1.yml`, patroniYaml(cluster, { name: 'n1', pgPort: 28432, apiPort: 28008, dir: `${root}/n1` }));
 */
export function patroniYaml(cluster: PatroniClusterSpec, member: PatroniMemberSpec): string {
  const api = `127.0.0.1:${member.apiPort}`;
  const pg = `127.0.0.1:${member.pgPort}`;
  return `scope: ${cluster.scope}
namespace: /service/
name: ${member.name}
restapi:
  listen: ${api}
  connect_address: ${api}
etcd3:
  hosts: 127.0.0.1:${cluster.etcdPort}
bootstrap:
  dcs:
    ttl: ${cluster.ttl}
    loop_wait: ${cluster.loopWait}
    retry_timeout: ${cluster.retryTimeout}
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 60
        shared_buffers: 32MB
        wal_keep_size: 128MB
        fsync: 'off'   # tests only; full_page_writes stays on, pg_rewind needs it
  initdb:
  - encoding: UTF8
  - locale: C
  - auth-local: trust
  - auth-host: trust
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 trust
  - host replication all 127.0.0.1/32 trust
postgresql:
  listen: ${pg}
  connect_address: ${pg}
  data_dir: ${member.dir}/data
  bin_dir: ${cluster.binDir}
  pgpass: ${member.dir}/pgpass
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
  parameters:
    unix_socket_directories: ${cluster.root}
watchdog:
  mode: 'off'
  safety_margin: -1   # else 3.0.2 warns every loop when ttl < loop_wait + 5
`;
}

/**
 * The argv of a single-node etcd 3.4 for the cluster, listening on 127.0.0.1 only.
 *
 * @example
 * spawn('etcd', etcdArgs(cluster, peerPort));
 */
export function etcdArgs(cluster: PatroniClusterSpec, peerPort: number): string[] {
  const client = `http://127.0.0.1:${cluster.etcdPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    ...['--name', cluster.scope, '--data-dir', `${cluster.root}/etcd`],
    ...['--listen-client-urls', client, '--advertise-client-urls', client],
    ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
    ...['--initial-cluster', `${cluster.scope}=${peer}`, '--initial-cluster-state', 'new'],
    ...['--logger', 'zap', '--log-outputs', 'stderr'],
  ];
}
