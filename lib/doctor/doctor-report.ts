/**
 * The result types of `split-knex doctor`: what was observed on each node, what the
 * routing probes found, and the checks (✓/!/✗) derived from those facts.
 */

/**
 * `ok` ✓, `warn` ! (worth a look, does not fail the run), `fail` ✗ (a problem: exit code 1),
 * `skipped` ? (could not be checked, e.g. the role may not read what it needs: the detail says
 * why, the advice how to make it checkable; does not fail the run).
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/**
 * One line of the doctor's verdict.
 *
 * @example
 * { node: 'replica2', check: 'reachable', status: 'fail', detail: 'connect ECONNREFUSED 127.0.0.1:1',
 *   advice: 'Nothing answers at 127.0.0.1:1: start the server or fix host/port of replica2.' }
 */
export interface DoctorCheck {
  /** The node the check is about, or `routing` / `config` for instance-wide checks. */
  node: string;
  /** Short name: `reachable`, `role`, `cluster`, `streaming`, `lag`, `single server`, `pooler`, `pool size`, `version`, `read probe`, `write target`. */
  check: string;
  status: CheckStatus;
  /** What was observed, in a few words. */
  detail: string;
  /** One line telling what to do (for `skipped`: how to make it checkable); present when status is not `ok`. */
  advice?: string;
}

/** Which server answered one connection: enough to tell servers (and roles) apart. */
export interface ServerIdentity {
  /** `inet_server_addr()`; null over a unix socket. */
  addr: string | null;
  /** `inet_server_port()`. */
  port: number | null;
  /** `pg_postmaster_start_time()` as text: tells apart servers that share an address and port (containers, hosts). */
  started: string;
  /** `pg_is_in_recovery()`. */
  standby: boolean;
  /** `pg_backend_pid()` of the connection. */
  pid: number;
}

/** What the doctor saw of a connection pooler in front of a node. */
export interface PoolerFacts {
  /** Two client connections open at the same time were served by the same server backend: transaction or statement pooling. */
  sharedBackend: boolean;
  /** The server's port differs from the configured one: something (proxy, pooler, port forward) sits in between. */
  portMismatch: boolean;
  /** `SHOW VERSION` of a PgBouncer admin console reachable at the same address, e.g. `PgBouncer 1.18.0`. */
  adminConsole?: string;
  /** `pool_mode` from the admin console's `SHOW CONFIG`, when it answered. */
  poolMode?: string;
}

/** Everything observed on one configured node. Never holds a password. */
export interface NodeFacts {
  name: string;
  configuredRole: 'primary' | 'replica';
  /** `host:port/database` as configured (no user, no password). */
  target: string;
  /** The configured port, when the configuration states one. */
  configuredPort?: number;
  reachable: boolean;
  /** Connect time of the first connection, ms. */
  connectMs?: number;
  /** Why it is unreachable, or why the facts query failed. */
  error?: string;
  inRecovery?: boolean;
  /** The role the doctor's connection runs as (`current_user`): the one the application's pool logs in as. */
  user?: string;
  serverVersion?: string;
  serverVersionNum?: number;
  transactionReadOnly?: boolean;
  defaultTransactionReadOnly?: boolean;
  /** `pg_control_system().system_identifier`: equal on a primary and its physical replicas. */
  systemIdentifier?: string;
  identity?: ServerIdentity;
  /** Primary: `pg_current_wal_lsn()`. */
  currentLsn?: string;
  /** Standby: `pg_last_wal_receive_lsn()` / `pg_last_wal_replay_lsn()`. */
  receiveLsn?: string;
  replayLsn?: string;
  /** Standby: seconds since the last replayed transaction committed on the primary (misleading when the primary is idle). */
  replayAgeSeconds?: number | null;
  /** Standby: bytes of WAL between the primary's current position and this replay position. */
  lagBytes?: number;
  /** Standby: `pg_stat_wal_receiver.status` (null when no WAL receiver runs; absent when it could not be read, see `unreadable`). */
  walReceiverStatus?: string | null;
  /** Standby: where it streams from, `host:port`. */
  upstream?: string | null;
  /**
   * Facts the node would not show the doctor's role, each with the reason: a check that
   * needs one is `skipped` instead of judging a blank (e.g. `pg_stat_wal_receiver` shows
   * only the pid to a role without `pg_read_all_stats`).
   */
  unreadable?: { walReceiver?: string; systemIdentifier?: string };
  maxConnections?: number;
  /** `superuser_reserved_connections` (+ `reserved_connections` on PostgreSQL 16+). */
  reservedConnections?: number;
  /**
   * Client backends connected right now (all users, all databases). Sessions of other users
   * that the role may not inspect are counted when they belong to a database and a user.
   */
  connectionsInUse?: number;
  /** This instance's pool bound for the node (`pool.max`, knex's default 10). */
  poolMax: number;
  /** The servers that answered `samples` NEW connections. */
  samples: ServerIdentity[];
  pooler?: PoolerFacts;
}

/** Where routed probes landed. */
export interface RoutingFacts {
  /** Routed reads (one per replica): which node's server answered each, and why it was sent there. */
  reads: Array<{ node?: string; identity?: ServerIdentity; reason?: string; error?: string }>;
  /** A read-write check on the write target (`db.primary`), without writing. */
  write?: {
    node?: string;
    identity?: ServerIdentity;
    inRecovery?: boolean;
    transactionReadOnly?: boolean;
    defaultTransactionReadOnly?: boolean;
    error?: string;
  };
}

/** What `db.doctor()` resolves to and `split-knex doctor --json` prints. */
export interface DoctorReport {
  /** True when no check failed (warnings allowed). */
  ok: boolean;
  problems: number;
  warnings: number;
  /** Checks that could not be made (status `skipped`). */
  skipped: number;
  /** ISO timestamp of the run. */
  checkedAt: string;
  /** Instances assumed to share the databases when sizing pools. */
  instances: number;
  nodes: NodeFacts[];
  routing: RoutingFacts;
  checks: DoctorCheck[];
}
