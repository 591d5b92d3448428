import type { BackgroundLinks } from './background/background-links';
import type { LinkStats } from './background/background-link';
import { poolCounts, type PoolCounts } from './knex/node-pool';
import type { LifecycleState } from './lifecycle';
import type { Pipeline } from './pipeline';
import type { Node, NodeRole, NodeState } from './route/node';
import type { Subsystem } from './subsystem';
import type { HealthStats } from './health';
import type { ConsistencyStats } from './consistency';
import type { CatalogStats } from './catalog';
import type { CacheStats } from './cache';
import type { TopologyStats } from './topology/topology-follower';

/** One node's counters, as `db.stats()` reports them. Never contains connection strings. */
export interface NodeStats {
  name: string;
  role: NodeRole;
  state: NodeState;
  queries: number;
  reads: number;
  writes: number;
  errors: number;
  inFlight: number;
  /**
   * What a read cost here lately, pool wait included: a moving average in ms (two decimals),
   * null before the first read. The primary's against the replicas' is the busy-primary signal.
   */
  readMs: number | null;
  /** The application's pool for this node. */
  pool: PoolCounts;
  lastError: string | undefined;
}

/** Summed counters of all nodes in one role. */
export interface RoleTotals {
  nodes: number;
  queries: number;
  reads: number;
  writes: number;
  errors: number;
  inFlight: number;
}

/**
 * split-knex's own connections, beside the application's pools: at most one background
 * connection per node (probes, position polls, catalog loads), plus the cache's LISTEN
 * connection when `cache.invalidation` is `'notify'`.
 */
export interface BackgroundStats {
  /** `created` (nothing started or connected yet), `running`, `destroyed`. */
  state: LifecycleState;
  /** One line per node. */
  connections: LinkStats[];
}

/**
 * The sections the subsystems add to `db.stats()`, one typed field each.
 *
 * @example
 * const s = db.stats();
 * s.health.nodes; s.consistency.effectiveMode; s.catalog.state; s.cache?.hits;
 */
export interface SubsystemStats {
  /** Probe states, ejections, retries (docs/failure-handling.md). */
  health: HealthStats;
  /** Read-your-writes mode, positions, lag (docs/consistency.md). */
  consistency: ConsistencyStats;
  /** What the catalog knows and how it routed (docs/catalog.md). */
  catalog: CatalogStats;
  /** Result cache counters; `null` when the `cache` section is absent. */
  cache: CacheStats | null;
  /** What topology discovery last saw and did; `null` without `discover`. */
  topology: TopologyStats | null;
}

/**
 * What `db.stats()` returns: counters per node and role, and one typed section per subsystem.
 * Never contains a connection string or a password.
 *
 * @example
 * const s: SplitKnexStats = db.stats();
 * s.totals.replica.reads; s.health.nodes; s.background.connections;
 */
export interface SplitKnexStats extends SubsystemStats {
  nodes: NodeStats[];
  totals: { primary: RoleTotals; replica: RoleTotals };
  /** Statements a replica refused as read-only (SQLSTATE 25006): each is a classifier bug to report. */
  misroutes: number;
  /** Statements run a second time on another node (misroutes, connection failures). */
  retries: number;
  /** Reads that went to the primary, by cause (`fallback`, `usePrimary`, `hint`, `sticky`, `lag`, …). */
  primaryReads: Record<string, number>;
  background: BackgroundStats;
}

/** What {@link collectStats} reads. */
export interface StatsSources {
  pipeline: Pipeline;
  nodes: readonly Node[];
  subsystems: readonly Subsystem[];
  links: BackgroundLinks;
}

/**
 * Builds the `stats()` snapshot from the nodes' counters and the subsystems' sections.
 *
 * @example
 * const s = collectStats({ pipeline, nodes, subsystems, links }); s.totals.replica.reads
 */
export function collectStats(sources: StatsSources): SplitKnexStats {
  const nodes = sources.nodes.map(nodeStats);
  const totals = { primary: emptyTotals(), replica: emptyTotals() };
  for (const n of nodes) {
    const t = totals[n.role];
    t.nodes++;
    t.queries += n.queries;
    t.reads += n.reads;
    t.writes += n.writes;
    t.errors += n.errors;
    t.inFlight += n.inFlight;
  }
  const { pipeline } = sources;
  const sections: Record<string, unknown> = { cache: null, topology: null };
  for (const s of sources.subsystems) if (s.stats !== undefined) sections[s.name] = s.stats();
  return {
    nodes, totals, misroutes: pipeline.misroutes, retries: pipeline.retries,
    primaryReads: Object.fromEntries(pipeline.router.primaryReads),
    background: { state: pipeline.lifecycle.state, connections: sources.links.stats() },
    // Each subsystem returns its own section's type (health, consistency, catalog always; cache or null).
    ...(sections as unknown as SubsystemStats),
  };
}

function nodeStats(node: Node): NodeStats {
  return {
    name: node.name,
    role: node.role,
    state: node.state,
    queries: node.queries,
    reads: node.reads,
    writes: node.writes,
    errors: node.errors,
    inFlight: node.inFlight,
    readMs: node.readMs === undefined ? null : Math.round(node.readMs * 100) / 100,
    pool: poolCounts(node.client),
    lastError: node.lastError,
  };
}

function emptyTotals(): RoleTotals {
  return { nodes: 0, queries: 0, reads: 0, writes: 0, errors: 0, inFlight: 0 };
}
