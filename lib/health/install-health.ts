import type { Node } from '../route/node';
import type { Subsystem } from '../subsystems';
import { avoidSuspectReplicas } from './avoid-suspect';
import { isNodeFailure } from './connection-error';
import { failoverRetry, type RetryCounters } from './failover-retry';
import { healthClock } from './health-clock';
import type { HealthProbe } from './health-probe';
import { HealthMonitor } from './health-monitor';
import { healthStats } from './health-stats';
import { resolveConnection } from './node-connection';
import { nodeConnectionsOf } from './node-connections';
import { PgProbe } from './pg-probe';
import { drainPool } from './pool-drain';
import './health-events';

/**
 * The health subsystem: probes, node states, ejection and re-admission, read retries,
 * fast `ESPLIT_PRIMARY_DOWN` for writes, role discovery, events and `stats().health`.
 * See docs/failure-handling.md.
 *
 * @example
 * // lib/subsystems.ts
 * const SUBSYSTEMS: Subsystem[] = [installHealth];
 */
export const installHealth: Subsystem = (_db, core, config) => {
  const { health, hosts } = nodeConnectionsOf(config);
  const router = core.router;
  const counters: RetryCounters = { retries: 0, retriedOnPrimary: 0, primaryDown: 0 };

  const probes = new Map<Node, HealthProbe>();
  probes.set(core.primary, hosts ?? new PgProbe(() => resolveConnection(config.primary.connection), health.timeoutMs));
  core.replicas.forEach((node, i) => {
    const spec = config.replicas[i];
    if (spec === undefined || spec.name !== node.name) throw new Error(`split-knex: replica ${node.name} has no matching config entry`);
    probes.set(node, new PgProbe(() => resolveConnection(spec.connection), health.timeoutMs));
  });

  const monitor = new HealthMonitor({
    nodes: core.nodes,
    router,
    config: health,
    probes,
    clock: healthClock(config.raw.clock),
    emit: (event, payload) => core.emitter?.emit(event, payload),
    drain: (node, closeInFlight) => drainPool(node.client, { closeInFlight }),
  });
  if (hosts !== undefined) hosts.onSwitch = (from, to, reason) => monitor.hostSwitched(core.primary, from, to, reason);

  if (health.enabled) {
    core.lifecycles.push(monitor);
    router.policies.push(avoidSuspectReplicas);
    router.writerGuard = (writer) => {
      const refusal = monitor.writerRefusal(writer);
      if (refusal !== undefined) counters.primaryDown++;
      return refusal;
    };
  } else {
    // No probe; the multi-host primary still keeps connections to look for its host.
    core.lifecycles.push({ start() {}, stop: () => hosts?.close() });
  }

  core.nodeErrorObservers.push((node, err, phase) => {
    // A host of a multi-host primary refused a new connection: look for the primary again.
    if (hosts !== undefined && node === core.primary && phase === 'acquire' && isNodeFailure(err)) hosts.invalidate();
    if (health.enabled) monitor.reportError(node, err);
  });
  core.retryPolicies.push(failoverRetry({
    router, counters, retryReads: health.retryReads, onWriterRefused: (node) => monitor.probeSoon(node),
  }));
  core.statsSections.set('health', () => healthStats({ monitor, router, counters, hosts, enabled: health.enabled, discoverRoles: health.discoverRoles }));
};
