import { configError } from '../errors';
import { checkTopology } from './check-topology';
import { TopologyError } from './topology-error';
import type { Topology, TopologyMember, TopologySource } from './topology-source';

/** Where a server listens, as the application must reach it. */
export interface HostPort {
  host: string;
  port: number;
}

/** One row of `pg_stat_replication` as {@link ReplicationTopology} reads it. */
export interface ReplicationRow {
  application_name: string;
  /** The standby's address as the primary sees it (text), or null for a unix socket. */
  client_addr: string | null;
  state: string;
  /** `pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)`, or null before the first reply. */
  lag_bytes: string | number | null;
}

/** Options of {@link ReplicationTopology}. */
export interface ReplicationTopologyOptions {
  /**
   * Runs SQL on the node believed to be the primary and resolves with its rows (e.g.
   * `(sql) => pool.query(sql).then((r) => r.rows)`). No pool of its own: the caller decides
   * which connection, and bounds the call.
   */
  query: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>;
  /** The queried node itself: its name and address as the application reaches it. */
  primary: { name: string } & HostPort;
  /**
   * Maps a standby to the address the application should use, keyed by its
   * `application_name` (`cluster_name` or `primary_conninfo`'s application_name; Patroni
   * uses the member name). A function sees the whole row, for maps by `client_addr`.
   * Standbys the map does not know (undefined) are left out: a backup, a logical consumer,
   * or a server the application has no route to.
   */
  hosts: Readonly<Record<string, HostPort>> | ((row: ReplicationRow) => HostPort | undefined);
}

/** The SQL {@link ReplicationTopology} runs, in one statement so it sees one instant. @internal */
export const REPLICATION_TOPOLOGY_SQL = `select pg_is_in_recovery() as in_recovery,
  case when pg_is_in_recovery() then null
       else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline,
  coalesce((select json_agg(json_build_object(
      'application_name', r.application_name, 'client_addr', host(r.client_addr), 'state', r.state,
      'lag_bytes', pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::text))
    from pg_stat_replication r where not pg_is_in_recovery()), '[]'::json) as standbys`;

/**
 * A topology source reading the primary's `pg_stat_replication`: the primary itself plus
 * each standby streaming from it (state, lag in bytes behind the primary's current WAL
 * position), mapped to addresses through `hosts`. It sees only standbys connected right now
 * (a cascaded standby appears on its upstream, not here), and only while the queried node
 * is the primary: a node in recovery makes `read()` reject, so a caller whose primary was
 * demoted learns it instead of reading an empty list.
 *
 * @example
 * const source = new ReplicationTopology({
 *   query: (sql) => primaryPool.query(sql).then((r) => r.rows),
 *   primary: { name: 'pg1', host: '10.0.0.1', port: 5432 },
 *   hosts: { pg2: { host: '10.0.0.2', port: 5432 }, pg3: { host: '10.0.0.3', port: 5432 } },
 * });
 * const { members } = await source.read();
 */
export class ReplicationTopology implements TopologySource {
  readonly kind = 'replication';

  constructor(private readonly options: ReplicationTopologyOptions) {
    if (typeof options?.query !== 'function') throw configError('discover.replication.query', options?.query, 'must be a function (sql) => Promise<rows>');
    const p = options.primary;
    if (p === null || typeof p !== 'object' || typeof p.name !== 'string' || typeof p.host !== 'string' || !Number.isInteger(p.port)) {
      throw configError('discover.replication.primary', p, 'must be { name, host, port }');
    }
    const h = options.hosts;
    if (typeof h !== 'function' && (h === null || typeof h !== 'object')) {
      throw configError('discover.replication.hosts', h, 'must be an object { application_name: { host, port } } or a function');
    }
  }

  /** Queries the primary once and maps what it reports. */
  async read(): Promise<Topology> {
    const { primary } = this.options;
    let row: Record<string, unknown> | undefined;
    try {
      [row] = await this.options.query(REPLICATION_TOPOLOGY_SQL);
    } catch (err) {
      // The cause keeps the driver's error (SQLSTATE, …); the message names only the node.
      throw new TopologyError(`split-knex: reading pg_stat_replication on ${primary.name} failed (see cause)`, { cause: err });
    }
    if (row === undefined) throw new TopologyError(`split-knex: pg_stat_replication on ${primary.name} returned no row`);
    if (row['in_recovery'] === true) {
      throw new TopologyError(`split-knex: ${primary.name} is in recovery (a standby): it cannot report the cluster's replication`);
    }
    const timeline = typeof row['timeline'] === 'number' ? row['timeline'] : undefined;
    const members: TopologyMember[] = [{ name: primary.name, host: primary.host, port: primary.port, role: 'primary', state: 'running', ...(timeline ? { timeline } : {}) }];
    for (const standby of preferStreaming(standbysOf(row['standbys']))) {
      const to = typeof this.options.hosts === 'function' ? this.options.hosts(standby) : this.options.hosts[standby.application_name];
      if (to === undefined) continue;
      const lag = standby.lag_bytes === null ? undefined : Number(standby.lag_bytes);
      members.push({
        name: standby.application_name,
        host: to.host,
        port: to.port,
        role: 'replica',
        state: standby.state,
        ...(lag !== undefined && Number.isFinite(lag) ? { lagBytes: lag } : {}),
      });
    }
    return checkTopology({ members }, 'replication');
  }
}

// `standbys` arrives as parsed JSON (node-postgres parses json) or as text from other drivers.
function standbysOf(value: unknown): ReplicationRow[] {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(parsed)) return [];
  return parsed.filter((r): r is ReplicationRow => r !== null && typeof r === 'object' && typeof (r as ReplicationRow).application_name === 'string');
}

// One row per name. While a standby is being cloned, pg_basebackup's own WAL stream can carry
// the standby's name too (Patroni names it after the member): keep the most advanced state.
const STATE_RANK: Record<string, number> = { streaming: 0, catchup: 1, startup: 2, backup: 3 };
function preferStreaming(rows: ReplicationRow[]): ReplicationRow[] {
  const best = new Map<string, ReplicationRow>();
  for (const row of rows) {
    const kept = best.get(row.application_name);
    if (!kept || (STATE_RANK[row.state] ?? 9) < (STATE_RANK[kept.state] ?? 9)) best.set(row.application_name, row);
  }
  return [...best.values()];
}
