import { performance } from 'perf_hooks';
import { SplitKnexError } from '../errors';
import type { Node } from '../route/node';
import type { ReadPolicy } from '../route/router';
import type { Statement } from '../route/statement';
import type { ConsistencyOptions } from './consistency-config';
import type { ConsistencyCounters } from './consistency-counters';
import type { ReplicaPositions } from './replica-positions';

/** Between two polls while a read waits for a replica to come within the limits. */
const LAG_POLL_STEP_MS = 20;

type Verdict = undefined | string | ((node: Node) => boolean);

/**
 * The graduated lag policy (`lag.minReplicas`, `lag.hysteresisMs`): the least-lagged
 * `minReplicas` replicas keep serving however far behind, and a replica changes between
 * serving and skipped at most once per `hysteresisMs`.
 *
 * @example
 * new LagPolicy(options, positions, counters, causal, primaryDown, { minReplicas: 1, hysteresisMs: 5000, now: () => Date.now() });
 */
export interface GraduatedLag {
  minReplicas: number;
  hysteresisMs: number;
  /** The instance's clock. */
  now(): number;
}

interface Admission {
  serving: boolean;
  changedAt: number;
}

/**
 * Skips replicas that lag more than `maxLagMs` / `maxLagBytes` for reads with no causal
 * requirement (a replica that replayed the scope's writes is fine for that read, however
 * far behind it is otherwise). When every replica lags: the primary, a bounded wait, or
 * `ESPLIT_NO_REPLICA`, as `onExceeded` says — unless the primary is down: then the replicas.
 *
 * @example
 * core.router.policies.push(new LagPolicy(options, positions, counters, causal));
 */
export class LagPolicy implements ReadPolicy {
  readonly name = 'lag';
  private readonly limits: ConsistencyOptions['lag'];
  private readonly admissions = new Map<Node, Admission>();
  /** Serving ↔ skipped changes of replicas (graduated policy). */
  transitions = 0;
  /** Reads that went to a lagging replica kept serving by `minReplicas`. */
  keptLaggingReads = 0;

  constructor(
    options: ConsistencyOptions,
    private readonly positions: ReplicaPositions,
    private readonly counters: ConsistencyCounters,
    private readonly causal: WeakSet<Statement>,
    /** True while the health checks hold the primary down: then lagging replicas beat no answer. */
    private readonly primaryDown: () => boolean = () => false,
    /** The graduated policy; without it, every lagging replica is skipped at once. */
    private readonly graduated?: GraduatedLag,
  ) {
    this.limits = options.lag;
  }

  /** True when a replica is known to lag more than a limit (unknown lag is not held against it). */
  lagging(node: Node): boolean {
    const { maxLagMs, maxLagBytes } = this.limits;
    const lag = this.positions.lag(node);
    return (maxLagMs !== undefined && lag.ms !== undefined && lag.ms > maxLagMs)
      || (maxLagBytes !== undefined && lag.bytes !== undefined && lag.bytes > maxLagBytes);
  }

  check(statement: Statement, candidates: readonly Node[]): Verdict | Promise<Verdict> {
    if (this.limits.maxLagMs === undefined && this.limits.maxLagBytes === undefined) return undefined;
    if (this.causal.has(statement)) return undefined;
    if (this.graduated !== undefined) {
      const serving = this.serving(candidates, this.graduated);
      if (serving.size === candidates.length) return undefined;
      if (serving.size > 0) {
        this.counters.lagSkippedReads++;
        return (n) => serving.has(n);
      }
    }
    const fresh = candidates.filter((n) => !this.lagging(n));
    if (fresh.length === candidates.length) return undefined;
    if (fresh.length > 0) {
      this.counters.lagSkippedReads++;
      return (n) => !this.lagging(n);
    }
    if (this.primaryDown()) {
      this.counters.primaryDownReads++;
      return undefined;
    }
    switch (this.limits.onExceeded) {
      case 'error':
        this.counters.lagErrors++;
        throw new SplitKnexError('ESPLIT_NO_REPLICA', `split-knex: every replica lags more than the limits (${this.describe(candidates)}) and lag.onExceeded is 'error'`);
      case 'wait':
        return this.waitForFresh(candidates);
      default:
        return this.toPrimary(candidates);
    }
  }

  // Which replicas serve: each follows its lag, at most one change per hysteresis period;
  // then the least-lagged are kept up to minReplicas.
  private serving(candidates: readonly Node[], g: GraduatedLag): Set<Node> {
    const now = g.now();
    const serving = new Set<Node>();
    for (const n of candidates) {
      const want = !this.lagging(n);
      let a = this.admissions.get(n);
      if (a === undefined) {
        a = { serving: want, changedAt: Number.NEGATIVE_INFINITY };
        this.admissions.set(n, a);
      } else if (a.serving !== want && now - a.changedAt >= g.hysteresisMs) {
        a.serving = want;
        a.changedAt = now;
        this.transitions++;
      }
      if (a.serving) serving.add(n);
    }
    const min = Math.min(g.minReplicas, candidates.length);
    if (serving.size < min) {
      const rest = candidates.filter((n) => !serving.has(n)).sort((a, b) => this.lagScore(a) - this.lagScore(b));
      for (const n of rest.slice(0, min - serving.size)) serving.add(n);
      this.keptLaggingReads++;
    }
    return serving;
  }

  // Least lagged first: by time, then bytes; unknown lag last.
  private lagScore(node: Node): number {
    const lag = this.positions.lag(node);
    if (lag.ms !== undefined) return lag.ms;
    return lag.bytes === undefined ? Number.MAX_SAFE_INTEGER : lag.bytes / 1e6;
  }

  private toPrimary(candidates: readonly Node[]): string {
    this.counters.lagPrimaryReads++;
    return `lag: every replica is too far behind (${this.describe(candidates)})`;
  }

  private async waitForFresh(candidates: readonly Node[]): Promise<Verdict> {
    const began = performance.now();
    this.counters.lagWaits++;
    try {
      for (;;) {
        const remaining = this.limits.maxWaitMs - (performance.now() - began);
        if (remaining <= 0) return this.toPrimary(candidates);
        // A probe another waiting read starts while this one sleeps is news to it too.
        const seen = this.positions.mark;
        await new Promise((resolve) => setTimeout(resolve, Math.min(LAG_POLL_STEP_MS, remaining)));
        await Promise.all(candidates.map((n) => this.positions.refresh(n, seen)));
        if (candidates.some((n) => !this.lagging(n))) return (n) => !this.lagging(n);
      }
    } finally {
      this.counters.lagWaitMs += performance.now() - began;
    }
  }

  private describe(candidates: readonly Node[]): string {
    return candidates.map((n) => {
      const lag = this.positions.lag(n);
      return `${n.name}: ${lag.ms ?? '?'} ms, ${lag.bytes ?? '?'} bytes`;
    }).join('; ');
  }
}
