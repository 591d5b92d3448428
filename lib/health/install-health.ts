import type { Node } from '../route/node';
import { swapPool } from '../knex/node-pool';
import type { SubsystemFactory } from '../subsystem';
import { avoidSuspectReplicas } from './avoid-suspect';
import { isNodeFailure } from './connection-error';
import { failoverRetry, type RetryCounters } from './failover-retry';
import type { HealthProbe } from './health-probe';
import { HealthMonitor } from './health-monitor';
import { healthStats } from './health-stats';
import { LinkProbe } from './link-probe';
import { nodeConnectionsOf } from './node-connections';
import { PlannedStopPause } from './planned-stop-pause';
import { WriterHold } from './writer-hold';
import './health-events';

/**
 * The health subsystem: probes, node states, ejection and re-admission, read retries,
 * fast `ESPLIT_PRIMARY_DOWN` for writes, role discovery, events and `stats().health`.
 * Probes run on each node's background connection (a multi-host primary keeps one per
 * host to find the read-write one). See docs/failure-handling.md.
 *
 * Stages: writer guard, read policy (avoid suspect replicas), retry, node errors,
 * background (the monitor), stats.
 *
 * @example
 * // lib/subsystems.ts
 * export const SUBSYSTEMS = [healthSubsystem, …];
 */
export const healthSubsystem: SubsystemFactory = (ctx) => {
  const { health, hosts } = nodeConnectionsOf(ctx.config);
  const router = ctx.router;
  const counters: RetryCounters = { retries: 0, retriedOnPrimary: 0, primaryDown: 0 };

  const probes = new Map<Node, HealthProbe>();
  for (const node of ctx.nodes) probes.set(node, new LinkProbe(ctx.links.of(node), health.timeoutMs));
  if (hosts !== undefined) probes.set(ctx.primary, hosts);

  const monitor = new HealthMonitor({
    nodes: ctx.nodes,
    router,
    config: health,
    probes,
    clock: ctx.clock,
    emit: (event, payload) => ctx.emit(event, payload),
    drain: (node, closeInFlight) => swapPool(node.client, { closeInFlight }),
    warn: (message) => ctx.logger.warn(message),
  });
  if (hosts !== undefined) hosts.onSwitch = (from, to, reason) => monitor.hostSwitched(ctx.primary, from, to, reason);
  const failover = ctx.config.failover;
  // The hold needs the probe: without it nothing would ever find the new writer.
  const holdMs = health.enabled ? failover.holdWritesMs : 0;
  // A planned stop of the writer (a switchover scheduled for later) refuses it ahead of
  // time, and the hold keeps new statements until the next writer is known.
  const pause = new PlannedStopPause(holdMs, ctx.clock);
  const refusalOf = (writer: Node) => monitor.writerRefusal(writer) ?? pause.refusal(writer);
  const hold = new WriterHold(holdMs, ctx.clock, {
    writer: () => router.currentWriter,
    refusal: refusalOf,
    hurry: (delayMs) => monitor.hurry(delayMs),
    nextChange: () => monitor.nextChange(),
  });
  // Confirm the writer's state after it failed a statement: probe it (again, up to the
  // ejection threshold) while it is neither ejected nor answering.
  const confirmWriter = async (node: Node): Promise<void> => {
    if (!health.enabled) return;
    for (let i = 0; i < health.failuresToDown && node.state !== 'down'; i++) {
      await monitor.runProbe(node);
      if (node.state === 'up') return;
    }
  };

  return {
    name: 'health',
    readPolicies: health.enabled ? [avoidSuspectReplicas] : [],
    writerGuard: health.enabled
      ? (writer) => {
        const down = monitor.writerRefusal(writer);
        if (down !== undefined) counters.primaryDown++;
        return down ?? pause.refusal(writer);
      }
      : undefined,
    retry: failoverRetry({
      router, counters, retryReads: health.retryReads, confirmWriter,
      hold: (statement) => hold.wait(statement),
      // A 25006 from the writer: a promotion happened somewhere; look everywhere now.
      // Every probe is bounded (timeoutMs), so this wait is too.
      onWriterRefused: health.enabled ? () => monitor.probeAll() : undefined,
    }),
    awaitWriter: (_refusal, statement) => hold.wait(statement),
    nodesChanged: ({ added, removed }) => {
      for (const node of added) monitor.addNode(node, new LinkProbe(ctx.links.of(node), health.timeoutMs));
      for (const node of removed) monitor.removeNode(node);
    },
    plannedStops: (stops) => pause.update(stops),
    nodeError: (node, err, phase) => {
      // A host of a multi-host primary refused a new connection: look for the primary again.
      if (hosts !== undefined && node === ctx.primary && phase === 'acquire' && isNodeFailure(err)) hosts.invalidate();
      if (health.enabled) monitor.reportError(node, err);
    },
    // No probe with `health: false`; a multi-host primary still keeps connections to find its host.
    background: health.enabled ? monitor : { start() {}, stop: () => hosts?.close() },
    stats: () => healthStats({ monitor, router, counters, hosts, hold, pause, enabled: health.enabled, discoverRoles: health.discoverRoles }),
  };
};
