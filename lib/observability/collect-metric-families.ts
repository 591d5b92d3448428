import type { SplitKnexStats } from '../stats';
import type { MetricFamily, MetricSample, MetricType } from './metric-family';
import type { RouteCounters } from './route-counters';

const NODE_STATES = ['up', 'suspect', 'down'] as const;
const ms = (v: number): number => v / 1000;

// Builds one family from rows; a row whose value is undefined or null is left out (unknown, not 0).
function family<T>(name: string, type: MetricType, help: string, rows: readonly T[],
  sample: (row: T) => readonly [Record<string, string>, number | null | undefined]): MetricFamily {
  const samples: MetricSample[] = [];
  for (const row of rows) {
    const [labels, value] = sample(row);
    if (value !== undefined && value !== null) samples.push({ labels, value });
  }
  return { name, type, help, samples };
}

/**
 * Every metric family of one instance, read from `db.stats()` and the route counters:
 * per node (queries, reads, writes, errors, pool, state), routing (route kinds, primary
 * reads by cause, misroutes, retries), read-your-writes outcomes, replica lag, health,
 * background connections, the catalog and, when configured, the result cache.
 * Names follow Prometheus conventions: `split_knex_` prefix, `_total` counters, base units.
 *
 * @example
 * formatExposition(collectMetricFamilies(db.stats(), counters))
 */
export function collectMetricFamilies(stats: SplitKnexStats, counters: RouteCounters): MetricFamily[] {
  const roleOf = new Map(stats.nodes.map((n) => [n.name, n.role]));
  const nodeLabels = (name: string): Record<string, string> => ({ node: name, role: roleOf.get(name) ?? 'replica' });
  const n = stats.nodes;
  const c = stats.consistency;
  const healthNodes = Object.entries(stats.health.nodes);
  const replicas = c.replicas;
  const links = stats.background.connections;
  const families: MetricFamily[] = [
    family('split_knex_queries_total', 'counter', 'Statements run on the node (reads and writes).', n, (x) => [nodeLabels(x.name), x.queries]),
    family('split_knex_reads_total', 'counter', 'Reads run on the node.', n, (x) => [nodeLabels(x.name), x.reads]),
    family('split_knex_writes_total', 'counter', 'Writes run on the node.', n, (x) => [nodeLabels(x.name), x.writes]),
    family('split_knex_errors_total', 'counter', 'Statements that failed on the node.', n, (x) => [nodeLabels(x.name), x.errors]),
    family('split_knex_in_flight_queries', 'gauge', 'Statements running on the node now.', n, (x) => [nodeLabels(x.name), x.inFlight]),
    family('split_knex_pool_connections', 'gauge', "Connections of the application's pool for the node, by state.",
      n.flatMap((x) => [[x.name, 'used', x.pool.used], [x.name, 'free', x.pool.free]] as const),
      ([name, state, v]) => [{ ...nodeLabels(name), state }, v]),
    family('split_knex_pool_pending_acquires', 'gauge', 'Statements waiting for a connection of the node.', n, (x) => [nodeLabels(x.name), x.pool.pendingAcquires]),
    family('split_knex_read_seconds', 'gauge', "Moving average of a read's time on the node, pool wait included (from its first read on).",
      n, (x) => [nodeLabels(x.name), x.readMs === null ? null : ms(x.readMs)]),
    family('split_knex_node_state', 'gauge', 'Health state of the node: 1 for its current state (up, suspect, down), 0 for the others.',
      n.flatMap((x) => NODE_STATES.map((s) => [x.name, s, x.state === s ? 1 : 0] as const)),
      ([name, state, v]) => [{ ...nodeLabels(name), state }, v]),
    family('split_knex_writer', 'gauge', 'Whether the node takes the writes now (1) or not (0).', n, (x) => [nodeLabels(x.name), x.name === stats.health.writer ? 1 : 0]),
    family('split_knex_routes_total', 'counter', 'Statements routed, by node, access and kind of route reason.', counters.routes(),
      (r) => [{ ...nodeLabels(r.node.name), access: r.access, reason: r.reason }, r.count]),
    family('split_knex_primary_reads_total', 'counter', 'Reads sent to the primary, by cause (fallback, usePrimary, hint, sticky, lag, ...).',
      Object.entries(stats.primaryReads), ([cause, v]) => [{ cause }, v]),
    family('split_knex_misroutes_total', 'counter', 'Statements a replica refused as read-only (SQLSTATE 25006): classifier bugs to report.', [stats.misroutes], (v) => [{}, v]),
    family('split_knex_retries_total', 'counter', 'Statements run again on another node, by the node that failed and the node that ran them next.',
      counters.retries(), (r) => [{ from: r.from.name, to: r.to.name, phase: r.phase }, r.count]),
    family('split_knex_read_your_writes_total', 'counter', 'Reads with a read-your-writes requirement, by outcome.', [
      ['sticky_primary', c.stickyPrimaryReads], ['causal_replica', c.causalReplicaReads], ['causal_primary', c.causalPrimaryReads],
      ['primary_down_replica', c.primaryDownReads], ['pending_primary', c.pendingPrimaryReads],
      ['bounded_replica', c.boundedReplicaReads], ['bounded_primary', c.boundedPrimaryReads],
    ] as const, ([outcome, v]) => [{ outcome }, v]),
    family('split_knex_causal_waits_total', 'counter', 'Reads that waited for a replica to replay their causal position.', [c.causalWaits], (v) => [{}, v]),
    family('split_knex_busy_primary_waits_total', 'counter', 'Reads that had to see a write while the primary was busy (no free connection, or slow reads), given a short wait for a replica instead of queueing.', [c.busyPrimaryWaits], (v) => [{}, v]),
    family('split_knex_causal_wait_seconds_total', 'counter', 'Time reads spent waiting for a replica to replay their causal position.', [c.causalWaitMs], (v) => [{}, ms(v)]),
    family('split_knex_lag_reads_total', 'counter', 'Reads affected by the lag limits, by outcome.', [
      ['replica_skipped', c.lagSkippedReads], ['primary', c.lagPrimaryReads], ['waited', c.lagWaits], ['refused', c.lagErrors],
    ] as const, ([outcome, v]) => [{ outcome }, v]),
    family('split_knex_replica_lag_seconds', 'gauge', "Replica's replay lag behind the primary, by time, at the last poll.", replicas,
      (r) => [nodeLabels(r.name), r.lagMs === null ? null : ms(r.lagMs)]),
    family('split_knex_replica_lag_bytes', 'gauge', "Replica's replay lag behind the primary, in WAL bytes, at the last poll.", replicas,
      (r) => [nodeLabels(r.name), r.lagBytes]),
    family('split_knex_replica_position_age_seconds', 'gauge', "Time since the replica's position was last read.", replicas,
      (r) => [nodeLabels(r.name), r.polledMsAgo === null ? null : ms(r.polledMsAgo)]),
    family('split_knex_failovers_total', 'counter', 'Times writes moved to another node or host.', [stats.health.failovers], (v) => [{}, v]),
    family('split_knex_health_probes_total', 'counter', 'Health probes of the node.', healthNodes, ([name, h]) => [nodeLabels(name), h.probes]),
    family('split_knex_health_probe_failures_total', 'counter', 'Failed health probes of the node.', healthNodes, ([name, h]) => [nodeLabels(name), h.probeFailures]),
    family('split_knex_node_ejections_total', 'counter', 'Times the node was marked down.', healthNodes, ([name, h]) => [nodeLabels(name), h.ejections]),
    family('split_knex_background_connection_up', 'gauge', "Whether split-knex's own background connection to the node is open.", links,
      (l) => [nodeLabels(l.node), l.connected ? 1 : 0]),
    family('split_knex_background_connects_total', 'counter', 'Background connections opened to the node.', links, (l) => [nodeLabels(l.node), l.connects]),
    family('split_knex_background_queries_total', 'counter', 'Queries run on the background connection (probes, polls, catalog loads).', links,
      (l) => [nodeLabels(l.node), l.queries]),
    family('split_knex_background_failures_total', 'counter', 'Failures of the background connection to the node.', links, (l) => [nodeLabels(l.node), l.failures]),
    family('split_knex_catalog_loads_total', 'counter', 'Successful catalog loads.', [stats.catalog.loads], (v) => [{}, v]),
    family('split_knex_catalog_failures_total', 'counter', 'Failed catalog loads.', [stats.catalog.failures], (v) => [{}, v]),
  ];
  if (stats.cache !== null) families.push(...cacheFamilies(stats.cache));
  return families;
}

function cacheFamilies(k: NonNullable<SplitKnexStats['cache']>): MetricFamily[] {
  return [
    family('split_knex_cache_hits_total', 'counter', 'Reads answered from the result cache.', [k.hits], (v) => [{}, v]),
    family('split_knex_cache_misses_total', 'counter', 'Cacheable reads the cache did not have.', [k.misses], (v) => [{}, v]),
    family('split_knex_cache_stores_total', 'counter', 'Results stored in the cache.', [k.stores], (v) => [{}, v]),
    family('split_knex_cache_skipped_total', 'counter', 'Reads the cache would not consider.', [k.skipped], (v) => [{}, v]),
    family('split_knex_cache_invalidations_total', 'counter', 'Cache invalidations, by source (local writes, remote instances).',
      [['local', k.invalidations.local], ['remote', k.invalidations.remote]] as const, ([source, v]) => [{ source }, v]),
    family('split_knex_cache_rejections_total', 'counter', 'Results not stored, by reason.', [
      ['stale', k.staleRejections], ['lag', k.lagRejections], ['retry', k.retryRejections], ['too_large', k.tooLarge],
    ] as const, ([reason, v]) => [{ reason }, v]),
    family('split_knex_cache_store_errors_total', 'counter', 'Cache store operations that failed.', [k.storeErrors], (v) => [{}, v]),
    family('split_knex_cache_entries', 'gauge', 'Entries held by the cache store.', [k.entries], (v) => [{}, v]),
    family('split_knex_cache_bytes', 'gauge', 'Estimated bytes held by the cache store.', [k.bytes], (v) => [{}, v]),
  ];
}
