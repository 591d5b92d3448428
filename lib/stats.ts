import type { BackgroundLinks } from './background/background-links';
import type { LinkStats } from './background/background-link';
import { poolCounts, type PoolCounts } from './knex/node-pool';
import type { LifecycleState } from './lifecycle';
import type { Pipeline } from './pipeline';
import type { Node, NodeRole, NodeState } from './route/node';
import type { Subsystem } from './subsystem';

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

/** What `db.stats()` returns. */
export interface SplitKnexStats {
  nodes: NodeStats[];
  totals: { primary: RoleTotals; replica: RoleTotals };
  /** Statements a replica refused as read-only (SQLSTATE 25006): each is a classifier bug to report. */
  misroutes: number;
  /** Statements run a second time on another node (misroutes, connection failures). */
  retries: number;
  /** Reads that went to the primary, by cause (`fallback`, `usePrimary`, `hint`, `sticky`, `lag`, …). */
  primaryReads: Record<string, number>;
  background: BackgroundStats;
  /** Each subsystem's section, by its name (`health`, `consistency`, `catalog`, `cache`). */
  [section: string]: unknown;
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
  const stats: SplitKnexStats = {
    nodes, totals, misroutes: pipeline.misroutes, retries: pipeline.retries,
    primaryReads: Object.fromEntries(pipeline.router.primaryReads),
    background: { state: pipeline.lifecycle.state, connections: sources.links.stats() },
  };
  for (const s of sources.subsystems) if (s.stats !== undefined) stats[s.name] = s.stats();
  return stats;
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
    pool: poolCounts(node.client),
    lastError: node.lastError,
  };
}

function emptyTotals(): RoleTotals {
  return { nodes: 0, queries: 0, reads: 0, writes: 0, errors: 0, inFlight: 0 };
}
