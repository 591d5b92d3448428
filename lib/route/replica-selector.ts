import type { NodeInfo } from './node';
import type { Statement } from './statement';

/**
 * A user-supplied replica choice: gets the eligible replicas (never empty) and the
 * statement, returns one of them (or its name). Returning `undefined` means "none":
 * the read then follows `routing.fallback`.
 *
 * @example
 * routing: { strategy: (replicas) => replicas.find((r) => r.name === 'eu-2') ?? replicas[0] }
 */
export type ReplicaSelectorFn = (replicas: readonly NodeInfo[], statement: Statement) => NodeInfo | string | undefined;

/** Picks one replica among eligible candidates. Implementations keep their own state. */
export interface ReplicaSelector {
  select<T extends NodeInfo>(candidates: readonly T[], statement: Statement): T | undefined;
}

/**
 * Smooth weighted round-robin (the nginx algorithm): with weights 2:1 the order is
 * a, b, a, a, b, a … — spread out, exact over each cycle, and plain round-robin when
 * all weights are equal.
 */
export class RoundRobinSelector implements ReplicaSelector {
  private readonly current = new Map<string, number>();

  select<T extends NodeInfo>(candidates: readonly T[], _statement?: Statement): T | undefined {
    if (candidates.length <= 1) return candidates[0];
    let total = 0;
    let best: T | undefined;
    let bestScore = -Infinity;
    for (const c of candidates) {
      const score = (this.current.get(c.name) ?? 0) + c.weight;
      this.current.set(c.name, score);
      total += c.weight;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    if (best !== undefined) this.current.set(best.name, bestScore - total);
    return best;
  }
}

/** Weighted random choice; `random` is injectable for tests. */
export class RandomSelector implements ReplicaSelector {
  constructor(private readonly random: () => number = Math.random) {}

  select<T extends NodeInfo>(candidates: readonly T[]): T | undefined {
    if (candidates.length <= 1) return candidates[0];
    let total = 0;
    for (const c of candidates) total += c.weight;
    let point = this.random() * total;
    for (const c of candidates) {
      point -= c.weight;
      if (point < 0) return c;
    }
    return candidates[candidates.length - 1];
  }
}

/**
 * Fewest queries in flight relative to weight; ties broken round-robin so an idle
 * cluster still spreads its reads.
 */
export class LeastBusySelector implements ReplicaSelector {
  private readonly tieBreak = new RoundRobinSelector();

  select<T extends NodeInfo>(candidates: readonly T[], statement: Statement): T | undefined {
    if (candidates.length <= 1) return candidates[0];
    let bestLoad = Infinity;
    const best: T[] = [];
    for (const c of candidates) {
      const load = c.inFlight / c.weight;
      if (load < bestLoad) {
        bestLoad = load;
        best.length = 0;
        best.push(c);
      } else if (load === bestLoad) {
        best.push(c);
      }
    }
    return this.tieBreak.select(best, statement);
  }
}

/** Adapts a user function to the selector interface, accepting a node or its name. */
export class FunctionSelector implements ReplicaSelector {
  constructor(private readonly fn: ReplicaSelectorFn) {}

  select<T extends NodeInfo>(candidates: readonly T[], statement: Statement): T | undefined {
    const picked = this.fn(candidates, statement);
    if (picked === undefined || picked === null) return undefined;
    const name = typeof picked === 'string' ? picked : picked.name;
    return candidates.find((c) => c.name === name);
  }
}

/** The selector for a `routing.strategy` value. */
export function createSelector(strategy: 'round-robin' | 'random' | 'least-busy' | ReplicaSelectorFn): ReplicaSelector {
  if (typeof strategy === 'function') return new FunctionSelector(strategy);
  if (strategy === 'random') return new RandomSelector();
  if (strategy === 'least-busy') return new LeastBusySelector();
  return new RoundRobinSelector();
}
