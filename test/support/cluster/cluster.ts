/** Where a node sits in the replication topology when the cluster starts. */
export type NodeRole = 'primary' | 'replica';

/** How a cluster was provisioned; fault injection is impossible with `env`. */
export type ProviderName = 'env' | 'local' | 'containers';

/** `immediate` is a crash (recovery on restart); `fast` is a clean shutdown. */
export type StopMode = 'immediate' | 'fast';

/**
 * Connection facts for one PostgreSQL server of a test cluster.
 *
 * @example
 * const { primary } = getTestCluster();
 * knex({ client: 'pg', connection: primary.url });
 */
export interface NodeInfo {
  /** `primary`, `replica1`, `replica2`, … — the key every fault-injection method takes. */
  name: string;
  /** Role at startup. Not updated by `promote()`: a promoted replica keeps `role: 'replica'`. */
  role: NodeRole;
  host: string;
  port: number;
  user: string;
  /** Absent for the local provider (trust authentication). Never log it. */
  password?: string;
  database: string;
  /** `postgres://user@127.0.0.1:port/db` (with the password when there is one). */
  url: string;
}

/** Per-call options of {@link Cluster.query}. */
export interface QueryOptions {
  /**
   * Bound on connecting and on the query itself, client side, in ms (default 10 000).
   * A client-side bound is the only one that works against a paused server.
   */
  timeoutMs?: number;
}

/**
 * A running primary with streaming replicas, plus the fault injection tests need.
 * Obtain one from `startCluster()` or, inside mocha, `getTestCluster()`.
 *
 * @example
 * const cluster = await startCluster({ replicas: 1 });
 * try {
 *   await cluster.query('primary', 'CREATE TABLE t (id int)');
 *   await cluster.waitForReplication();
 *   await cluster.pause('replica1'); // TCP accepts, nothing answers
 * } finally {
 *   await cluster.destroy();
 * }
 */
export interface Cluster {
  readonly primary: NodeInfo;
  readonly replicas: NodeInfo[];
  readonly provider: ProviderName;
  /**
   * The replica reserved for lag tests (the last one) when started with `lagReplica: true`.
   * No delay is set at start; tests call `setApplyDelay()` on it and reset it to 0 after.
   */
  readonly lagReplica?: NodeInfo;
  /** Every node, primary first. */
  readonly nodes: NodeInfo[];

  /** Looks a node up by name; throws listing the known names when there is none. */
  node(name: string): NodeInfo;
  /**
   * Stops a node (`pg_ctl stop -m immediate|fast`, default `fast`). `immediate` is a crash:
   * with the local provider's `synchronous_commit=off`, the primary then loses commits of
   * the last ~200 ms that the WAL writer had not written yet, exactly as PostgreSQL
   * documents; `await waitForReplication()` first if the test needs them.
   */
  stop(name: string, mode?: StopMode): Promise<void>;
  /** Restarts a stopped node; resolves once it answers (and, for a replica, streams again). */
  start(name: string): Promise<void>;
  /** SIGSTOPs the postmaster and its children: TCP connects succeed, nothing ever answers. */
  pause(name: string): Promise<void>;
  /** SIGCONTs a paused node. */
  resume(name: string): Promise<void>;
  /**
   * Promotes a replica; resolves when `pg_is_in_recovery()` is false. The other replicas
   * still follow the old primary: start a throwaway cluster for this, then destroy it.
   */
  promote(name: string): Promise<void>;
  /** Sets `recovery_min_apply_delay` on a replica (ALTER SYSTEM + reload); 0 removes it. */
  setApplyDelay(name: string, ms: number): Promise<void>;
  /**
   * Resolves when the replicas have replayed everything the primary has written so far.
   * By default waits for every running, non-promoted replica *without* an apply delay;
   * name replicas in `nodes` to wait for exactly those (delayed ones included).
   */
  waitForReplication(timeoutMs?: number, nodes?: readonly string[]): Promise<void>;
  /** Runs one statement on a node through a short-lived `pg.Client`; returns the rows. */
  query<T = any>(name: string, sql: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
  /** Stops every node and removes everything the cluster created. Idempotent. */
  destroy(): Promise<void>;
}
