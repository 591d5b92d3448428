import { performance } from 'perf_hooks';
import type { SqlClassifier, ClassifyOptions } from '../classify';
import type { Node } from '../route/node';
import type { ReadPolicy } from '../route/router';
import type { Statement } from '../route/statement';
import type { ConsistencyOptions } from './consistency-config';
import type { ConsistencyCounters } from './consistency-counters';
import type { ConsistencyScopes } from './consistency-scopes';
import type { ConsistencyState } from './consistency-state';
import type { ReplicaPositions } from './replica-positions';
import { formatLsn } from './wal-position';

/** Between two position queries while a read waits for a replica to catch up. */
const CAUSAL_POLL_STEP_MS = 10;
/** The first on-demand position query may take this long even with `maxWaitMs: 0` (a hung replica costs a read no more). */
export const FIRST_REFRESH_BOUND_MS = 100;

type Verdict = undefined | string | ((node: Node) => boolean);

/** What {@link StickyPolicy} needs from the instance. */
export interface StickyPolicyDeps {
  options: ConsistencyOptions;
  scopes: ConsistencyScopes;
  positions: ReplicaPositions;
  counters: ConsistencyCounters;
  /** Reads whose causal requirement a replica met: the lag policy leaves them alone. */
  causal: WeakSet<Statement>;
  /** The tables a read touches (per-table windows only). */
  tablesOf: (statement: Statement) => readonly string[];
  /** True while the health checks hold the primary down. */
  primaryDown: () => boolean;
}

/**
 * Read-your-writes for reads that could go to a replica: a sticky window sends the read to
 * the primary; a causal position lets it go only to replicas that replayed it, asking them
 * on demand and waiting up to `maxWaitMs`, then the primary.
 *
 * @example
 * core.router.policies.push(new StickyPolicy(deps));
 */
export class StickyPolicy implements ReadPolicy {
  readonly name = 'sticky';

  constructor(private readonly deps: StickyPolicyDeps) {}

  check(statement: Statement, candidates: readonly Node[]): Verdict | Promise<Verdict> {
    const { options, scopes } = this.deps;
    if (options.mode === 'none') return undefined;
    const state = scopes.current();
    if (state === undefined) return undefined;
    const now = options.clock.now();
    const left = state.windowLeft(now, options.perTable ? this.deps.tablesOf(statement) : undefined);
    if (left > 0) {
      const verdict = this.stick(`sticky window (${left} ms left)`);
      if (verdict !== undefined) return verdict;
    }
    const need = state.lsn;
    if (need === undefined) return undefined;
    const caught = this.caughtUp(candidates, need);
    if (caught > 0) return this.causalOk(statement, need, caught, candidates.length);
    const askable = candidates.filter((n) => this.deps.positions.canProbe(n));
    if (askable.length === 0) return this.blind(state, now);
    return this.waitForReplay(statement, state, need, askable, candidates.length);
  }

  // Counts without allocating: this runs for every read of a scope that wrote.
  private caughtUp(candidates: readonly Node[], need: bigint): number {
    let n = 0;
    for (const node of candidates) {
      const replayed = this.deps.positions.replayed(node);
      if (replayed !== undefined && replayed >= need) n++;
    }
    return n;
  }

  private causalOk(statement: Statement, need: bigint, caught: number, candidateCount: number): Verdict {
    this.deps.counters.causalReplicaReads++;
    if (this.deps.options.lag.maxLagMs !== undefined || this.deps.options.lag.maxLagBytes !== undefined) this.deps.causal.add(statement);
    if (caught === candidateCount) return undefined;
    const positions = this.deps.positions;
    return (n) => {
      const replayed = positions.replayed(n);
      return replayed !== undefined && replayed >= need;
    };
  }

  // A read that should go to the primary while the primary is down: the freshest copy left
  // is on the replicas (a caught-up one if any): availability wins, and stats() counts it.
  private stick(reason: string): string | undefined {
    if (this.deps.primaryDown()) {
      this.deps.counters.primaryDownReads++;
      return undefined;
    }
    this.deps.counters.stickyPrimaryReads++;
    return reason;
  }

  // No replica reports a position (unreachable, or not a standby): fall back to a window
  // counted from the write, the only promise left to keep.
  private blind(state: ConsistencyState, now: number): Verdict {
    const left = state.lsnAt + this.deps.options.windowMs - now;
    return left > 0 ? this.stick(`sticky window (${left} ms left; no replica reports its WAL position)`) : undefined;
  }

  private async waitForReplay(
    statement: Statement, state: ConsistencyState, need: bigint, askable: Node[], candidateCount: number,
  ): Promise<Verdict> {
    const { positions, counters, options } = this.deps;
    const began = performance.now();
    counters.causalWaits++;
    try {
      for (let round = 0; ; round++) {
        const left = options.maxWaitMs - (performance.now() - began);
        await within(anyCaughtUp(askable, positions, need, positions.mark), round === 0 ? Math.max(left, FIRST_REFRESH_BOUND_MS) : left);
        const caught = this.caughtUp(askable, need);
        if (caught > 0) return this.causalOk(statement, need, caught, candidateCount);
        // Every replica answered without a position (not standbys, or failing): nothing can
        // prove the write is there. Replicas merely slow to answer are not "blind".
        if (askable.every((n) => positions.reportsNoPosition(n))) return this.blind(state, options.clock.now());
        const remaining = options.maxWaitMs - (performance.now() - began);
        if (remaining <= 0) {
          if (this.deps.primaryDown()) {
            counters.primaryDownReads++;
            return undefined;
          }
          counters.causalPrimaryReads++;
          return `causal: no replica has replayed ${formatLsn(need)} (waited ${Math.round(performance.now() - began)} ms)`;
        }
        await sleep(Math.min(CAUSAL_POLL_STEP_MS, remaining));
      }
    } finally {
      counters.causalWaitMs += performance.now() - began;
    }
  }
}

/** Refreshes every node (probes started after `mark`); resolves at the first that has replayed `need`, or when all answered. */
function anyCaughtUp(nodes: readonly Node[], positions: ReplicaPositions, need: bigint, mark: number): Promise<void> {
  return new Promise((resolve) => {
    let left = nodes.length;
    for (const n of nodes) {
      void positions.refresh(n, mark).then(() => {
        const r = positions.replayed(n);
        if ((r !== undefined && r >= need) || --left === 0) resolve();
      });
    }
  });
}

/** Resolves when `promise` does or after `ms`, whichever comes first. */
function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(0, ms)); })])
    .finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The tables a read touches, from the SQL classifier (memoized there). @internal */
export function tablesFromClassifier(classifier: SqlClassifier, options: () => ClassifyOptions): (s: Statement) => readonly string[] {
  return (s) => classifier.classify(s.sql, options()).tables;
}
