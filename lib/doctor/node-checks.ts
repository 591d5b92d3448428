import type { ResolvedDoctorOptions } from './doctor-options';
import type { DoctorCheck, NodeFacts } from './doctor-report';
import { serverKey, serverLabel } from './server-key';
import { parseLsn, walBytesBetween } from '../wal-position';
import { formatBytes } from './format-bytes';

/** Everything a node check may look at besides its own node. */
export interface NodeCheckContext {
  node: NodeFacts;
  /** Every configured node, primary first. */
  all: readonly NodeFacts[];
  options: ResolvedDoctorOptions;
}

const ok = (node: string, check: string, detail: string): DoctorCheck => ({ node, check, status: 'ok', detail });
const warn = (node: string, check: string, detail: string, advice: string): DoctorCheck => ({ node, check, status: 'warn', detail, advice });
const fail = (node: string, check: string, detail: string, advice: string): DoctorCheck => ({ node, check, status: 'fail', detail, advice });
const skipped = (node: string, check: string, detail: string, advice: string): DoctorCheck => ({ node, check, status: 'skipped', detail, advice });

/** Can we connect, and could we read the server's facts? */
export function reachableCheck({ node }: NodeCheckContext): DoctorCheck {
  if (!node.reachable) {
    const auth = /password|authentication|role .* does not exist|28P01|28000/i.test(node.error ?? '');
    const advice = auth
      ? `The server at ${node.target} refused the credentials: fix user/password of ${node.name}.`
      : `Nothing usable answers at ${node.target}: start the server, or fix host/port of ${node.name} in the config.`;
    return fail(node.name, 'reachable', node.error ?? 'cannot connect', advice);
  }
  if (node.error !== undefined) {
    return fail(node.name, 'reachable', node.error, 'Connected, but the server facts could not be read: is this PostgreSQL 10 or later, and may this user read pg_stat_activity?');
  }
  return ok(node.name, 'reachable', `connected to ${node.target} in ${node.connectMs ?? '?'} ms`);
}

/** Is the configured primary a primary, and every replica a standby? */
export function roleCheck({ node, all }: NodeCheckContext): DoctorCheck {
  const primary = all[0];
  const standby = node.inRecovery === true;
  if (node.configuredRole === 'primary') {
    if (!standby) return ok(node.name, 'role', 'primary (pg_is_in_recovery() = f)');
    const realPrimary = all.find((n) => n.configuredRole === 'replica' && n.reachable && n.inRecovery === false);
    const advice = realPrimary !== undefined
      ? `Primary and ${realPrimary.name} look swapped: use ${realPrimary.target} as connection and list ${node.target} under replicas.`
      : 'connection points at a standby, which refuses every write: point it at the current primary (after a failover the old replica is the primary).';
    return fail(node.name, 'role', 'is a standby (pg_is_in_recovery() = t), configured as the primary', advice);
  }
  if (standby) return ok(node.name, 'role', 'standby (pg_is_in_recovery() = t)');
  let advice: string;
  if (node.samples.some((s) => s.standby)) {
    advice = 'A SQL-aware balancer (pgpool-II?): it sent the doctor\'s facts query to the primary but plain SELECTs to standbys. split-knex already routes reads: point this replica at a standby directly.';
  } else if (primary !== undefined && primary.reachable && primary.inRecovery === true) {
    advice = `Swapped with the primary: use ${node.target} as connection and list ${primary.target} under replicas.`;
  } else if (primary?.identity !== undefined && node.identity !== undefined && serverKey(primary.identity) === serverKey(node.identity)) {
    advice = 'This replica URL reaches the primary itself, so its reads load the primary: point it at a standby.';
  } else {
    advice = 'Not a standby (a promoted replica or another primary): its data may differ from the primary\'s; remove it or point it at a standby of the primary.';
  }
  return fail(node.name, 'role', 'is a primary (pg_is_in_recovery() = f), configured as a replica', advice);
}

/** Same major version everywhere, and one split-knex supports. */
export function versionCheck({ node, all }: NodeCheckContext): DoctorCheck {
  const version = `PostgreSQL ${node.serverVersion ?? '?'}`;
  const num = node.serverVersionNum ?? 0;
  if (num > 0 && num < 100000) return fail(node.name, 'version', version, 'PostgreSQL 10 or later is required (WAL functions were renamed in 10).');
  const primary = all[0];
  const major = Math.floor(num / 10000);
  const primaryMajor = Math.floor((primary?.serverVersionNum ?? 0) / 10000);
  if (node !== primary && primaryMajor > 0 && major > 0 && major !== primaryMajor) {
    return warn(node.name, 'version', `${version}, the primary runs ${primary?.serverVersion}`, 'A physical standby runs the primary\'s major version: this node is not a streaming replica of the primary.');
  }
  return ok(node.name, 'version', version);
}

/**
 * A replica shares the primary's system identifier (it was cloned from it). Skipped when a
 * role may not read it; undefined when the primary could not be read at all (its own checks say why).
 */
export function clusterCheck({ node, all }: NodeCheckContext): DoctorCheck | undefined {
  const primary = all[0];
  if (node.configuredRole !== 'replica') return undefined;
  const refused = node.unreadable?.systemIdentifier ?? primary?.unreadable?.systemIdentifier;
  if (refused !== undefined) {
    return skipped(node.name, 'cluster', refused, 'GRANT EXECUTE ON FUNCTION pg_control_system() to the role to check that this replica was cloned from the primary.');
  }
  if (primary?.systemIdentifier === undefined || node.systemIdentifier === undefined) return undefined;
  if (node.systemIdentifier === primary.systemIdentifier) return ok(node.name, 'cluster', `system identifier ${node.systemIdentifier} = the primary's`);
  return fail(
    node.name, 'cluster', `system identifier ${node.systemIdentifier} ≠ the primary's ${primary.systemIdentifier}`,
    'This server was not cloned from the primary: it is not its replica, and reads here see other data.',
  );
}

/** A standby has a streaming WAL receiver. Skipped when the role may not see its status; undefined for primaries. */
export function streamingCheck({ node }: NodeCheckContext): DoctorCheck | undefined {
  if (node.inRecovery !== true) return undefined;
  if (node.unreadable?.walReceiver !== undefined) {
    return skipped(
      node.name, 'streaming', node.unreadable.walReceiver,
      `GRANT pg_read_all_stats TO ${node.user ?? 'the role'} to check it (a superuser before PostgreSQL 11); the lag check still shows whether this standby keeps up.`,
    );
  }
  if (node.walReceiverStatus === undefined) return undefined;
  if (node.walReceiverStatus === 'streaming') return ok(node.name, 'streaming', `streaming from ${node.upstream ?? 'its upstream'}`);
  return warn(
    node.name, 'streaming', node.walReceiverStatus === null ? 'no WAL receiver running' : `WAL receiver ${node.walReceiverStatus}`,
    'The standby is not streaming (primary_conninfo, replication slot, pg_hba replication entry?): it falls further behind every second.',
  );
}

/** Replay position and lag of a standby against the primary's current position. */
export function lagCheck({ node, options }: NodeCheckContext): DoctorCheck | undefined {
  if (node.inRecovery !== true || node.replayLsn === undefined) return undefined;
  const bytes = node.lagBytes ?? 0;
  const caughtUp = bytes === 0;
  // The replay timestamp is the last replayed commit: after the primary was idle it is old even
  // when the standby is a few bytes behind a fresh write. It means time lag only while WAL that
  // already arrived waits to be applied (apply delay, replay conflicts).
  const applyPending = (bytesBetween(node.replayLsn, node.receiveLsn) ?? 0) > 0;
  const seconds = caughtUp ? 0 : applyPending ? node.replayAgeSeconds ?? undefined : undefined;
  const detail = `replayed to ${node.replayLsn}, ${caughtUp ? 'caught up' : `${formatBytes(bytes)}${seconds === undefined ? '' : ` / ${seconds.toFixed(1)} s`} behind`}`;
  if (bytes > options.maxLagBytes || (seconds !== undefined && seconds > options.maxLagSeconds)) {
    return warn(node.name, 'lag', detail, `More than ${formatBytes(options.maxLagBytes)} or ${options.maxLagSeconds} s behind: reads here are stale; check recovery_min_apply_delay, the network and replay conflicts.`);
  }
  return ok(node.name, 'lag', detail);
}

/**
 * Fills `lagBytes` of every standby: WAL between its replay position and the primary's
 * current one (or its own receive position when the primary cannot be read).
 *
 * @example
 * computeLag(nodes); nodes[1].lagBytes // 0
 */
export function computeLag(nodes: readonly NodeFacts[]): void {
  const primary = nodes[0];
  for (const node of nodes) {
    if (node.inRecovery !== true || node.replayLsn === undefined) continue;
    const fromPrimary = primary?.inRecovery === false ? bytesBetween(node.replayLsn, primary.currentLsn) : undefined;
    // Positions are read a few ms apart: a standby may be "ahead" of the primary's earlier reading.
    node.lagBytes = Math.max(0, fromPrimary ?? bytesBetween(node.replayLsn, node.receiveLsn) ?? 0);
  }
}

// Facts keep positions as PostgreSQL's text (a report is JSON, which has no bigint).
function bytesBetween(from: string | undefined, to: string | undefined): number | undefined {
  const a = parseLsn(from);
  const b = parseLsn(to);
  return a === undefined || b === undefined ? undefined : Number(walBytesBetween(a, b));
}

/** New connections to one URL all reach one server (not a balancer mixing roles). */
export function singleServerCheck({ node }: NodeCheckContext): DoctorCheck | undefined {
  if (node.samples.length === 0) return undefined;
  const servers = new Map<string, { label: string; standby: boolean }>();
  for (const s of node.samples) servers.set(serverKey(s), { label: serverLabel(s), standby: s.standby });
  const n = node.samples.length;
  if (servers.size === 1) return ok(node.name, 'single server', `${n} new connection${n === 1 ? '' : 's'}, 1 server`);
  const list = [...servers.values()];
  const standbys = list.filter((s) => s.standby).length;
  const primaries = list.length - standbys;
  const detail = `${n} new connections reached ${servers.size} servers (${list.map((s) => `${s.label} ${s.standby ? 'standby' : 'primary'}`).join(', ')})`;
  if (node.configuredRole === 'primary') {
    return fail(node.name, 'single server', detail, 'The primary URL is a balancer: writes can land on a standby. Point connection at the primary itself (or a role-aware writer endpoint).');
  }
  if (primaries > 0) {
    return fail(node.name, 'single server', detail, 'This replica URL is a load balancer that also sends to the primary: give the balancer a role check (pg_is_in_recovery()) or list each standby\'s own URL.');
  }
  return warn(node.name, 'single server', detail, 'A balancer over several standbys: split-knex sees them as one replica (one health state, one lag); list each standby to route around a lagging one.');
}

/** A pooler in front of the node, and what transaction pooling breaks. Undefined when none was seen. */
export function poolerCheck({ node }: NodeCheckContext): DoctorCheck | undefined {
  const p = node.pooler;
  if (p === undefined) return undefined;
  if (p.sharedBackend || p.adminConsole !== undefined) {
    const what = `${p.adminConsole ?? 'a pooler'}${p.poolMode === undefined ? '' : ` (pool_mode = ${p.poolMode})`}`;
    const evidence = p.sharedBackend ? 'two open client connections shared one server backend' : 'admin console answered';
    if (p.poolMode === 'session') return ok(node.name, 'pooler', `${what} in front: session pooling keeps session state`);
    return warn(
      node.name, 'pooler', `${what} in front: ${evidence}`,
      'Transaction pooling: SET, temp tables, advisory locks, LISTEN and named prepared statements do not survive between transactions; keep pool.max small (the pooler pools) and size the server side with default_pool_size.',
    );
  }
  if (p.portMismatch) {
    return warn(
      node.name, 'pooler', `server port ${node.identity?.port} ≠ configured port ${node.configuredPort}: a proxy or port forward sits in between`,
      'If this is a pooler or balancer, check its pool mode and routing; a container port mapping is harmless.',
    );
  }
  return undefined;
}

/** This instance's pools (× instances) fit the server's connection limit. */
export function poolSizeCheck({ node, all, options }: NodeCheckContext): DoctorCheck | undefined {
  if (node.maxConnections === undefined || node.identity === undefined) return undefined;
  // Nodes whose URLs reach the same server share its connection limit.
  const key = serverKey(node.identity);
  const sharing = all.filter((n) => n.identity !== undefined && serverKey(n.identity) === key);
  if (sharing[0] !== node) return undefined;
  const perInstance = sharing.reduce((sum, n) => sum + n.poolMax, 0);
  const demand = perInstance * options.instances;
  const available = node.maxConnections - (node.reservedConnections ?? 0);
  const names = sharing.length > 1 ? ` (${sharing.map((n) => n.name).join(' + ')})` : '';
  const inUse = Math.max(0, (node.connectionsInUse ?? 1) - 1); // minus the doctor's own connection
  const detail = `pool.max ${perInstance}${names} × ${options.instances} instance${options.instances === 1 ? '' : 's'} = ${demand} of ${available} available (${inUse} in use now)`;
  const pooled = node.pooler?.sharedBackend === true || node.pooler?.adminConsole !== undefined;
  if (demand > available && !pooled) {
    return fail(node.name, 'pool size', detail, `At full load the pools ask for more than max_connections − reserved allows: lower pool.max or instances, or raise max_connections (or put PgBouncer in front).`);
  }
  if (demand + inUse > available && !pooled) {
    return warn(node.name, 'pool size', detail, `With the connections already in use, only ${available - inUse} remain: full pools would be refused ("too many clients").`);
  }
  return ok(node.name, 'pool size', pooled ? `${detail}; behind a pooler its own limits apply` : detail);
}

/** Every node check, in display order. */
export const NODE_CHECKS = [
  roleCheck, versionCheck, clusterCheck, streamingCheck, lagCheck, singleServerCheck, poolerCheck, poolSizeCheck,
] as const;
