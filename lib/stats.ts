import type { Node, NodeRole, NodeState } from './route/node';
import type { SplitCore } from './split-core';

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
  [section: string]: unknown;
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
  const stats: SplitKnexStats = {
    nodes, totals, misroutes: core.misroutes, retries: core.retries,
    primaryReads: Object.fromEntries(core.router.primaryReads),
  };
  for (const [name, section] of core.statsSections) stats[name] = section();
  return stats;
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
