import type { Cluster } from '../test/support/cluster';
import { capCluster, capDelta, type CapDelta } from './cpu-caps';
import { benchMix, type MixOptions, type MixResult } from './mix-bench';
import type { MixContender } from './mix-contenders';
import { benchPgbenchCeiling, type CeilingOptions, type PgbenchCeiling } from './pgbench-ceiling';

/** What the capped capacity section measured, and how the caps were set and checked. */
export interface CappedCapacity {
  results: MixResult[];
  fraction: number;
  periodUs: number;
  /** Per node: the cgroup a backend forked after capping reported. */
  verified: Record<string, string>;
  /** Processes moved into each node's group. */
  moved: Record<string, number>;
  /** The same caps and statements under pgbench: what the nodes can serve (when asked for). */
  ceiling?: PgbenchCeiling;
  /** Why the ceiling was not measured, when it was asked for and failed. */
  ceilingError?: string;
}

/**
 * Section 3: what replicas add when each PostgreSQL node is a slower machine of its own.
 * Every node (primary and replicas) is confined to the same `fraction` of a core by its own
 * cgroup v1 cpu group, then the 90/10 mix of plain point reads and updates runs (no
 * pg_sleep: the nodes' CPU is the bottleneck). Each measured slice records, per node, how
 * many CFS periods it was throttled in (every period: the quota, not the host, was the
 * limit), its CPU, and the host's busy cores. With `ceiling`, pgbench then runs the same
 * statements under the same caps (everything on the primary, then reads on every node): the
 * capacity the nodes have, for the contenders to be read against. The caps are always
 * removed afterwards.
 *
 * @example
 * const r = await benchCappedCapacity(cluster, contenders, { ...mixOptions, fraction: 0.25 });
 */
export async function benchCappedCapacity(cluster: Cluster, contenders: MixContender[], options: MixOptions & { fraction: number; periodUs?: number; ceiling?: Pick<CeilingOptions, 'rounds' | 'seconds' | 'clientsPerNode'> }): Promise<CappedCapacity> {
  const caps = await capCluster(cluster, { fraction: options.fraction, ...(options.periodUs === undefined ? {} : { periodUs: options.periodUs }) });
  try {
    options.log(`capped every node at ${options.fraction} core (period ${caps.periodUs / 1000} ms): ${Object.entries(caps.verified).map(([n, v]) => `${n} ${v}`).join('; ')}`);
    const observe = () => {
      const before = caps.sample();
      return () => capDelta(before, caps.sample());
    };
    const results = await benchMix(cluster, contenders, { ...options, observe });
    for (const r of results) options.log(`capped ${r.name}: ${throttleSummary(r.observed ?? [], options.fraction)}`);
    const out: CappedCapacity = { results, fraction: caps.fraction, periodUs: caps.periodUs, verified: caps.verified, moved: caps.moved };
    if (options.ceiling !== undefined) {
      try {
        out.ceiling = await benchPgbenchCeiling(cluster, { ...options.ceiling, rows: options.rows ?? 1000, writeShare: options.writeShare, observe, log: options.log });
        for (const r of out.ceiling.rows) options.log(`capped ${r.name}: ${throttleSummary(r.observed, options.fraction)}`);
      } catch (err) {
        out.ceilingError = err instanceof Error ? err.message : String(err);
        options.log(`pgbench ceiling not measured: ${out.ceilingError}`);
      }
    }
    return out;
  } finally {
    await caps.release();
  }
}

/**
 * Per node, throttled periods / periods and cores used, summed over slices; and host busy cores.
 *
 * @example
 * throttleSummary(result.observed) // 'primary 90/90 0.25 core, replica1 …; host 1.45 cores busy'
 */
export function throttleSummary(observed: CapDelta[], fraction = 0.25): string {
  if (observed.length === 0) return 'no samples';
  const nodes = Object.keys(observed[0]!.nodes);
  const seconds = observed.reduce((s, d) => s + d.seconds, 0);
  const parts = nodes.map((n) => {
    const periods = observed.reduce((s, d) => s + (d.nodes[n]?.periods ?? 0), 0);
    const throttled = observed.reduce((s, d) => s + (d.nodes[n]?.throttled ?? 0), 0);
    const cores = observed.reduce((s, d) => s + (d.nodes[n]?.cores ?? 0) * d.seconds, 0) / seconds;
    return `${n} ${throttled}/${periods} ${cores.toFixed(2)} core`;
  });
  const host = observed.reduce((s, d) => s + d.hostBusyCores * d.seconds, 0) / seconds;
  const limit = capLimit(observed);
  return `${parts.join(', ')}; host ${host.toFixed(2)} cores busy${limit === undefined ? '' : ` → ${LIMIT_TEXT[limit]}`}`;
}

/** What limited a contender on capped nodes (see capLimit). */
export type CapLimit = 'quota' | 'host' | 'client';

const LIMIT_TEXT: Record<CapLimit, string> = {
  quota: 'quota-bound',
  host: '**host-bound** (not a capacity figure)',
  client: 'no node at its quota, host not full (client- or pool-bound)',
};

/**
 * What limited a contender on capped nodes: `'quota'` when some node was throttled in at
 * least 80% of the CFS periods (a node's quota was the bottleneck, as on separate
 * machines); else `'host'` when the host had at least 1.8 of its cores busy (the machine ran
 * out of CPU first: not a capacity figure); else `'client'` (neither: the client or the
 * pools set the pace). Undefined without samples.
 *
 * @example
 * capLimit(result.observed) // 'quota'
 */
export function capLimit(observed: CapDelta[]): CapLimit | undefined {
  if (observed.length === 0) return undefined;
  const seconds = observed.reduce((s, d) => s + d.seconds, 0);
  const atQuota = Object.keys(observed[0]!.nodes).some((n) => {
    const periods = observed.reduce((s, d) => s + (d.nodes[n]?.periods ?? 0), 0);
    const throttled = observed.reduce((s, d) => s + (d.nodes[n]?.throttled ?? 0), 0);
    return periods > 0 && throttled / periods >= 0.8;
  });
  if (atQuota) return 'quota';
  const host = observed.reduce((s, d) => s + d.hostBusyCores * d.seconds, 0) / seconds;
  return host >= 1.8 ? 'host' : 'client';
}
