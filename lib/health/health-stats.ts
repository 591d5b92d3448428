import type { NodeRole, NodeState } from '../route/node';
import type { Router } from '../route/router';
import type { RetryCounters } from './failover-retry';
import type { FailoverEvent } from './health-events';
import type { HealthMonitor } from './health-monitor';
import type { PrimaryHosts } from './primary-hosts';
import type { PlannedStopPause, PlannedStopStats } from './planned-stop-pause';
import type { HoldStats, WriterHold } from './writer-hold';

/** One node in `stats().health.nodes`. No connection strings, no passwords. */
export interface NodeHealthStats {
  state: NodeState;
  role: NodeRole;
  configuredRole: NodeRole;
  /** Consecutive failures since the last good probe. */
  failures: number;
  /** The last connection-level error, e.g. `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5433`. */
  lastError: string | undefined;
  lastErrorAt: string | undefined;
  lastProbeAt: string | undefined;
  /** Round trip of the last successful probe query, in ms. */
  probeLatencyMs: number | undefined;
  /** What the last successful probe said: `pg_is_in_recovery()`. */
  inRecovery: boolean | undefined;
  /**
   * Listed as a replica (or last seen as one) but answers out of recovery: a wrong URL or a
   * promoted node. It takes no reads while this is true (event `not-a-standby`).
   */
  notStandby: boolean;
  probes: number;
  probeFailures: number;
  ejections: number;
  readmissions: number;
  /** Since when the node is down (ISO time), if it is. */
  downSince: string | undefined;
}

/** The `health` section of `db.stats()`. */
export interface HealthStats {
  /** False with `health: false`: no probe, states never change. */
  enabled: boolean;
  discoverRoles: boolean;
  /** The node writes go to now. */
  writer: string;
  /** For a primary listed with several hosts: the host in use. */
  primaryHost: string | undefined;
  /** Reads run again on another node after a connection error. */
  retries: number;
  /** Of those, how many went to the primary. */
  retriedOnPrimary: number;
  /** Reads sent to the primary because no replica could take them. */
  fallbacks: number;
  /** Statements that failed with `ESPLIT_PRIMARY_DOWN`. */
  primaryDownErrors: number;
  /** Writes that failed with `ESPLIT_WRITE_UNKNOWN` (connection lost while they ran; never replayed). */
  writeUnknownErrors: number;
  /** Reads that lost the writer (read-your-writes sent them there) and ran again elsewhere. */
  writerReadRetries: number;
  /** `failover.holdWritesMs` and what the hold did. */
  hold: HoldStats & { holdWritesMs: number; plannedStop: PlannedStopStats };
  failovers: number;
  lastFailover: (FailoverEvent & { at: string }) | undefined;
  nodes: Record<string, NodeHealthStats>;
}

const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

/**
 * Builds the `health` section of `stats()`.
 *
 * @example
 * core.statsSections.set('health', () => healthStats({ monitor, router, counters, enabled: true, discoverRoles: false }));
 */
export function healthStats(input: {
  monitor: HealthMonitor; router: Router; counters: RetryCounters; hosts: PrimaryHosts | undefined; enabled: boolean; discoverRoles: boolean;
  hold?: WriterHold;
  pause?: PlannedStopPause;
}): HealthStats {
  const { monitor, router, counters } = input;
  const nodes: Record<string, NodeHealthStats> = {};
  for (const node of [router.primary, ...router.replicas]) {
    const h = monitor.healthOf(node);
    nodes[node.name] = {
      state: node.state,
      role: node.role,
      configuredRole: node.configuredRole,
      failures: h.failures,
      lastError: h.lastError,
      lastErrorAt: iso(h.lastErrorAt),
      lastProbeAt: iso(h.lastProbeAt),
      probeLatencyMs: h.lastProbe?.latencyMs,
      inRecovery: h.lastProbe?.inRecovery,
      notStandby: node.notStandby,
      probes: h.probes,
      probeFailures: h.probeFailures,
      ejections: h.ejections,
      readmissions: h.readmissions,
      downSince: iso(h.downSince),
    };
  }
  const last = monitor.lastFailover;
  return {
    enabled: input.enabled,
    discoverRoles: input.discoverRoles,
    writer: router.currentWriter.name,
    primaryHost: input.hosts?.currentHost,
    retries: counters.retries,
    retriedOnPrimary: counters.retriedOnPrimary,
    fallbacks: router.primaryReads.get('fallback') ?? 0,
    primaryDownErrors: counters.primaryDown,
    writeUnknownErrors: counters.writeUnknown ?? 0,
    writerReadRetries: counters.writerReadRetries ?? 0,
    hold: {
      holdWritesMs: input.hold?.holdMs ?? 0,
      ...(input.hold?.stats ?? { held: 0, released: 0, timedOut: 0, waitedMs: 0 }),
      plannedStop: input.pause?.stats() ?? { pending: null, pauses: 0 },
    },
    failovers: monitor.failoverCount,
    lastFailover: last === undefined ? undefined : { ...last, at: new Date(last.at).toISOString() },
    nodes,
  };
}
