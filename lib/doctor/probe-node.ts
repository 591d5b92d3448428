import type { Client, ClientConfig } from 'pg';
import type { NodeFacts, PoolerFacts, ServerIdentity } from './doctor-report';
import { closeConnection, describeTarget, endpointOf, errorLine, openConnection, withSettings } from './raw-connection';

/** The select list that says which server answered, shared by samples and routed probes. */
export const IDENTITY_SQL =
  'inet_server_addr()::text as addr, inet_server_port() as port, pg_postmaster_start_time()::text as started, ' +
  'pg_is_in_recovery() as standby, pg_backend_pid() as pid';

// One round trip for everything a guide tells you to look at by hand. Functions that fail
// on one role are guarded (pg_current_wal_lsn() errors on a standby; the replay ones are null on a primary).
// pg_stat_activity blanks backend_type of other users' sessions for a role without
// pg_read_all_stats; such a row with a database and a user is a client session too (aux
// processes have neither), so the count holds for unprivileged roles.
const FACTS_SQL = `select pg_is_in_recovery() as in_recovery,
  current_user::text as user_name,
  current_setting('server_version') as server_version,
  current_setting('server_version_num')::int as server_version_num,
  current_setting('transaction_read_only') as transaction_read_only,
  current_setting('default_transaction_read_only') as default_transaction_read_only,
  current_setting('max_connections')::int as max_connections,
  current_setting('superuser_reserved_connections')::int
    + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0) as reserved_connections,
  (select count(*) from pg_stat_activity where backend_type = 'client backend'
    or (backend_type is null and datid is not null and usesysid is not null))::int as connections_in_use,
  case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end as current_lsn,
  pg_last_wal_receive_lsn()::text as receive_lsn,
  pg_last_wal_replay_lsn()::text as replay_lsn,
  extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as replay_age_seconds,
  ${IDENTITY_SQL}`;

/** What {@link probeNode} needs to know about one configured node. */
export interface NodeProbeInput {
  name: string;
  configuredRole: 'primary' | 'replica';
  settings: ClientConfig;
  poolMax: number;
}

/** Bounds of one probe. */
export interface NodeProbeOptions {
  /** NEW connections opened to tell a single server from a balancer (default 6). */
  samples: number;
  timeoutMs: number;
}

/**
 * Looks at one node the way the replication guides do by hand: connects, asks its role,
 * version, WAL positions, connection limits and WAL receiver, then opens `samples` new
 * connections to see whether one server answers them all, and looks for a pooler.
 * Never writes; never throws (an unreachable node is a fact).
 *
 * @example
 * const facts = await probeNode({ name: 'replica1', configuredRole: 'replica', settings, poolMax: 10 }, { samples: 6, timeoutMs: 5000 });
 * facts.inRecovery // true
 */
export async function probeNode(input: NodeProbeInput, options: NodeProbeOptions): Promise<NodeFacts> {
  const endpoint = endpointOf(input.settings);
  const facts: NodeFacts = {
    name: input.name,
    configuredRole: input.configuredRole,
    target: describeTarget(input.settings),
    reachable: false,
    poolMax: input.poolMax,
    samples: [],
  };
  if (endpoint.port !== undefined) facts.configuredPort = endpoint.port;
  let client: Client;
  const began = Date.now();
  try {
    client = await openConnection(input.settings, options.timeoutMs);
  } catch (err) {
    facts.error = errorLine(err);
    return facts;
  }
  facts.reachable = true;
  facts.connectMs = Date.now() - began;
  try {
    await readFacts(client, facts);
    facts.pooler = await lookForPooler(client, input.settings, facts, options.timeoutMs);
  } catch (err) {
    facts.error = `facts query failed: ${errorLine(err)}`;
  } finally {
    await closeConnection(client);
  }
  facts.samples = await sampleServers(input.settings, options.samples, options.timeoutMs);
  return facts;
}

async function readFacts(client: Client, facts: NodeFacts): Promise<void> {
  const row = (await client.query(FACTS_SQL)).rows[0] as Record<string, unknown>;
  facts.inRecovery = row.in_recovery === true;
  facts.user = String(row.user_name);
  facts.serverVersion = String(row.server_version);
  facts.serverVersionNum = Number(row.server_version_num);
  facts.transactionReadOnly = row.transaction_read_only === 'on';
  facts.defaultTransactionReadOnly = row.default_transaction_read_only === 'on';
  facts.maxConnections = Number(row.max_connections);
  facts.reservedConnections = Number(row.reserved_connections);
  facts.connectionsInUse = Number(row.connections_in_use);
  facts.identity = identityOf(row);
  if (typeof row.current_lsn === 'string') facts.currentLsn = row.current_lsn;
  if (facts.inRecovery) {
    if (typeof row.receive_lsn === 'string') facts.receiveLsn = row.receive_lsn;
    if (typeof row.replay_lsn === 'string') facts.replayLsn = row.replay_lsn;
    facts.replayAgeSeconds = row.replay_age_seconds === null ? null : Number(row.replay_age_seconds);
  }
  // Either may be refused or blanked for an unprivileged role: say so, never guess.
  try {
    const sys = await client.query('select system_identifier::text as id from pg_control_system()');
    facts.systemIdentifier = String(sys.rows[0]?.id);
  } catch (err) {
    unreadable(facts).systemIdentifier = `pg_control_system() refused to ${facts.user}: ${errorLine(err)}`;
  }
  if (facts.inRecovery) await readWalReceiver(client, facts);
}

// The view has no row when no receiver runs. A role without pg_read_all_stats (a superuser
// before PostgreSQL 11) gets a row with only the pid: a receiver runs, its status is hidden.
async function readWalReceiver(client: Client, facts: NodeFacts): Promise<void> {
  try {
    const wr = await client.query('select pid, status, sender_host, sender_port from pg_stat_wal_receiver');
    const r = wr.rows[0] as { pid?: number | null; status?: string | null; sender_host?: string | null; sender_port?: number | null } | undefined;
    if (r === undefined || r.pid == null) {
      facts.walReceiverStatus = null;
    } else if (r.status == null) {
      unreadable(facts).walReceiver = `pg_stat_wal_receiver shows role ${facts.user} only the pid (${r.pid}) of the WAL receiver, not its status`;
    } else {
      facts.walReceiverStatus = r.status;
      facts.upstream = r.sender_host != null ? `${r.sender_host}:${r.sender_port ?? ''}` : null;
    }
  } catch (err) {
    unreadable(facts).walReceiver = `pg_stat_wal_receiver could not be read: ${errorLine(err)}`;
  }
}

function unreadable(facts: NodeFacts): NonNullable<NodeFacts['unreadable']> {
  facts.unreadable ??= {};
  return facts.unreadable;
}

/** Reads a {@link ServerIdentity} from a row selected with {@link IDENTITY_SQL}. */
export function identityOf(row: Record<string, unknown>): ServerIdentity {
  return {
    addr: row.addr === null || row.addr === undefined ? null : String(row.addr).replace(/\/\d+$/, ''),
    port: row.port === null || row.port === undefined ? null : Number(row.port),
    started: String(row.started),
    standby: row.standby === true,
    pid: Number(row.pid),
  };
}

/** Opens `count` new connections one after the other and notes which server answered each. */
export async function sampleServers(settings: ClientConfig, count: number, timeoutMs: number): Promise<ServerIdentity[]> {
  const out: ServerIdentity[] = [];
  for (let i = 0; i < count; i++) {
    let client: Client | undefined;
    try {
      client = await openConnection(settings, timeoutMs);
      out.push(identityOf((await client.query(`select ${IDENTITY_SQL}`)).rows[0]));
    } catch {
      // A sample that fails says nothing about mixing; reachability is judged on the first connection.
    } finally {
      if (client !== undefined) await closeConnection(client);
    }
  }
  return out;
}

// Transaction pooling shows itself when a second client connection, opened while the first
// is still open but idle, is served by the same server backend (PgBouncer reuses the most
// recently released server). A session pooler or a plain server gives it its own backend.
async function lookForPooler(first: Client, settings: ClientConfig, facts: NodeFacts, timeoutMs: number): Promise<PoolerFacts> {
  const pooler: PoolerFacts = {
    sharedBackend: false,
    portMismatch: facts.configuredPort !== undefined && facts.identity?.port != null && facts.identity.port !== facts.configuredPort,
  };
  let second: Client | undefined;
  try {
    const a = Number((await first.query('select pg_backend_pid() as pid')).rows[0]?.pid);
    second = await openConnection(settings, timeoutMs);
    const b = Number((await second.query('select pg_backend_pid() as pid')).rows[0]?.pid);
    pooler.sharedBackend = a === b;
  } catch {
    // Inconclusive.
  } finally {
    if (second !== undefined) await closeConnection(second);
  }
  if (pooler.sharedBackend || pooler.portMismatch) await askAdminConsole(settings, pooler, timeoutMs);
  return pooler;
}

// PgBouncer answers on the same port for the virtual database "pgbouncer" (its admin console)
// when the user is an admin or stats user; a PostgreSQL server says the database does not exist.
async function askAdminConsole(settings: ClientConfig, pooler: PoolerFacts, timeoutMs: number): Promise<void> {
  const endpoint = endpointOf(settings);
  const consoleSettings = withSettings(settings, { database: 'pgbouncer' });
  if (typeof settings.connectionString === 'string') {
    delete consoleSettings.connectionString;
    const url = safeUrl(settings.connectionString);
    if (url !== undefined) {
      consoleSettings.user ??= decodeURIComponent(url.username) || undefined;
      consoleSettings.password ??= decodeURIComponent(url.password) || undefined;
    }
    consoleSettings.host ??= endpoint.host;
    consoleSettings.port ??= endpoint.port;
  }
  let client: Client | undefined;
  try {
    client = await openConnection(consoleSettings, timeoutMs);
    // The admin console speaks the simple protocol only: node-postgres uses it for a query without parameters.
    const version = await client.query('SHOW VERSION');
    const row = version.rows[0] as Record<string, unknown> | undefined;
    pooler.adminConsole = String(row?.version ?? Object.values(row ?? {})[0] ?? 'PgBouncer');
    const config = await client.query('SHOW CONFIG');
    const mode = (config.rows as Array<{ key?: string; value?: string }>).find((r) => r.key === 'pool_mode');
    if (mode?.value !== undefined) pooler.poolMode = mode.value;
  } catch {
    // No console here, or not allowed: the other signals stand on their own.
  } finally {
    if (client !== undefined) await closeConnection(client);
  }
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
