/** A value for postgresql.conf; strings are quoted, numbers and booleans are not. */
export type SettingValue = string | number | boolean;

/**
 * The settings every local node starts with: fast and unsafe (fsync off), replication on,
 * loopback only. `extra` (from `startCluster({ settings })`) wins over these.
 *
 * `synchronous_commit` stays on (production semantics: an acknowledged commit's WAL is
 * written, so LSN tracking and crash tests mean what they say); with fsync off it costs
 * ~0.1 ms per commit. With `{ synchronous_commit: 'off' }` a commit returns before its WAL
 * is written and `pg_current_wal_lsn()` read right after it may not cover it yet.
 *
 * @example
 * renderConf(baseSettings({ port: 25432, socketDir: '/tmp/x', name: 'primary' }));
 */
export function baseSettings(node: {
  port: number;
  socketDir: string;
  name: string;
  extra?: Readonly<Record<string, SettingValue>>;
}): Record<string, SettingValue> {
  return {
    port: node.port,
    listen_addresses: '127.0.0.1',
    unix_socket_directories: node.socketDir,
    // Names the processes (`postgres: replica1: walreceiver`) and pg_stat_replication rows.
    cluster_name: node.name,
    max_connections: 200,
    shared_buffers: '32MB',
    fsync: false,
    synchronous_commit: true,
    full_page_writes: false,
    wal_level: 'replica',
    max_wal_senders: 10,
    wal_keep_size: '256MB',
    hot_standby: true,
    hot_standby_feedback: true,
    wal_receiver_status_interval: '1s',
    // Default 5 s: a replica whose primary restarted would sit idle that long before retrying.
    wal_retrieve_retry_interval: '500ms',
    log_min_messages: 'warning',
    log_line_prefix: '%m [%p] %q%a ',
    track_functions: 'all',
    ...node.extra,
  };
}

/** postgresql.conf lines for `settings`; appended lines override earlier ones. */
export function renderConf(settings: Readonly<Record<string, SettingValue>>): string {
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${renderValue(value)}`);
  return `\n# split-knex test cluster\n${lines.join('\n')}\n`;
}

/**
 * pg_hba.conf for a loopback-only test cluster: trust for everything, replication included.
 */
export const TRUST_HBA = [
  '# split-knex test cluster: loopback only, trust',
  'local all all trust',
  'local replication all trust',
  'host all all 127.0.0.1/32 trust',
  'host replication all 127.0.0.1/32 trust',
  '',
].join('\n');

function renderValue(value: SettingValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}
