import type { Node, NodeRole, NodeState } from './route/node';
import type { SplitCore } from './split-core';
import type { HealthStats } from './health';
import type { ConsistencyStats } from './consistency';
import type { CatalogStats } from './catalog';
import type { CacheStats } from './cache';

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
  pool: { used: number; free: number; pendingAcquires: number; pendingCreates: number };
  lastError: string | undefined;
  [extra: string]: unknown;
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
}

/**
 * What `db.stats()` returns: counters per node and role, and one typed section per subsystem.
 * Never contains a connection string or a password.
 *
 * @example
 * const s: SplitKnexStats = db.stats();
 * s.totals.replica.reads; s.health.nodes;
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
}

/**
 * Builds the `stats()` snapshot from the nodes' counters and the subsystems' sections.
 *
 * @example
 * const s = collectStats(core); s.totals.replica.reads
 */
export function collectStats(core: SplitCore): SplitKnexStats {
  const nodes = core.nodes.map(nodeStats);
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
  const stats: Record<string, unknown> = {
    nodes, totals, misroutes: core.misroutes, retries: core.retries,
    primaryReads: Object.fromEntries(core.router.primaryReads),
    cache: null,
  };
  // Sections are still registered by name at install time (statsSections); the cast holds
  // while health, consistency and catalog always register theirs. Typed collection (each
  // subsystem declaring its section) replaces it when the pipeline lands.
  for (const [name, section] of core.statsSections) stats[name] = section();
  return stats as unknown as SplitKnexStats;
}

function nodeStats(node: Node): NodeStats {
  const pool = node.client.pool;
  return {
    name: node.name,
    role: node.role,
    state: node.state,
    queries: node.queries,
    reads: node.reads,
    writes: node.writes,
    errors: node.errors,
    inFlight: node.inFlight,
    pool: pool === undefined
      ? { used: 0, free: 0, pendingAcquires: 0, pendingCreates: 0 }
      : { used: pool.numUsed(), free: pool.numFree(), pendingAcquires: pool.numPendingAcquires(), pendingCreates: pool.numPendingCreates() },
    lastError: node.lastError,
  };
}

function emptyTotals(): RoleTotals {
  return { nodes: 0, queries: 0, reads: 0, writes: 0, errors: 0, inFlight: 0 };
}
