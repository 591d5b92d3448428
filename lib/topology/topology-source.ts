/**
 * The role a topology source reports for a member: `primary` takes writes, `replica` is a
 * (hot) standby. A source maps its own vocabulary onto these two (Patroni's `leader` is
 * `primary`; `replica`, `sync_standby` and `standby_leader` are `replica`).
 *
 * @example
 * const role: TopologyRole = member.role === 'leader' ? 'primary' : 'replica';
 */
export type TopologyRole = 'primary' | 'replica';

/**
 * One PostgreSQL server as a topology source sees it.
 *
 * @example
 * const m: TopologyMember = { name: 'n2', host: '10.0.0.2', port: 5432, role: 'replica', state: 'running', lagBytes: 0, timeline: 3 };
 */
export interface TopologyMember {
  /** The source's name for the server (Patroni's member name, a replica's `application_name`). */
  name: string;
  host: string;
  port: number;
  role: TopologyRole;
  /**
   * The source's own word for the member's state, passed through unchanged: Patroni says
   * `running`, `stopped`, `stopping`, `starting`, `creating replica`; `pg_stat_replication`
   * says `streaming`, `catchup`, `startup`, `backup`. Only the source knows which are usable.
   */
  state: string;
  /** Bytes of WAL the member is behind the primary, when the source knows it. */
  lagBytes?: number;
  /** The member's timeline, when the source knows it (it changes with each promotion). */
  timeline?: number;
}

/**
 * One answer of a topology source: every member it knows of, primary included (when it
 * knows one: during a failover there may be none).
 *
 * @example
 * const primary = topology.members.find((m) => m.role === 'primary');
 */
export interface Topology {
  members: TopologyMember[];
  /**
   * Stops of a member's PostgreSQL that the source announces before they happen (a
   * scheduled switchover, a demote under way). Only Patroni reports them.
   */
  plannedStops?: PlannedStop[];
}

/**
 * A stop of one member's PostgreSQL, announced by the source before it happens. Patroni
 * reports a scheduled switchover (`scheduled_switchover` in `GET /cluster`) seconds ahead,
 * and a demote or restart under way on the leader (listed `running` without a timeline, or
 * `stopping`) only tens of milliseconds ahead.
 *
 * @example
 * const stop: PlannedStop = { member: 'n1', at: Date.parse('2026-05-01T03:00:00Z'), reason: 'switchover to n2 scheduled' };
 */
export interface PlannedStop {
  /** The member whose PostgreSQL stops (for a switchover: the leader). */
  member: string;
  /** The earliest time it stops, epoch ms on the wall clock; absent: it may stop now. */
  at?: number;
  /** What the source said, for stats and logs. */
  reason: string;
}

/**
 * Where the cluster's shape comes from: Patroni's REST API ({@link PatroniTopology}), the
 * primary's `pg_stat_replication` ({@link ReplicationTopology}), or a user callback
 * ({@link callbackTopology}). `read()` asks once; polling, and acting on the answer, is
 * the caller's business. A source that cannot answer rejects with a {@link TopologyError}
 * that names what it tried, without any secret.
 *
 * @example
 * const source: TopologySource = new PatroniTopology({ urls: ['http://10.0.0.1:8008', 'http://10.0.0.2:8008'] });
 * const { members } = await source.read();
 */
export interface TopologySource {
  /** A short label for logs and events (e.g. `patroni`), never containing a secret. */
  readonly kind: string;
  read(): Promise<Topology>;
}
