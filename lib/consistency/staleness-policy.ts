import type { Node } from '../route/node';
import type { ReadPolicy } from '../route/router';
import type { Statement } from '../route/statement';
import type { ConsistencyClock } from './consistency-config';
import type { ConsistencyCounters } from './consistency-counters';
import type { ReplicaPositions } from './replica-positions';

type Verdict = undefined | string | ((node: Node) => boolean);

/**
 * Per-query staleness (`.maxStaleness(ms)`): the read goes only to a replica whose data is
 * provably at most `ms` old — its measured time lag plus the age of that measurement (the
 * replica has replayed at least what it had then) — or to the primary. For such reads the
 * bound replaces `lag.maxLagMs` / `maxLagBytes` (the read is put in `exempt`, which the lag
 * policy leaves alone); read-your-writes still applies, before it.
 *
 * @example
 * await db('reports').where({ day }).maxStaleness(5000); // any replica at most 5 s behind
 */
export class StalenessPolicy implements ReadPolicy {
  readonly name = 'staleness';

  constructor(
    private readonly positions: ReplicaPositions,
    private readonly counters: ConsistencyCounters,
    private readonly clock: ConsistencyClock,
    /** Reads the lag limits leave alone. */
    private readonly exempt: WeakSet<Statement>,
  ) {}

  /** How stale a replica's data may be now, at most (ms); `undefined` when unknown. */
  staleness(node: Node): number | undefined {
    if (node.role === 'primary') return 0;
    const lag = this.positions.lag(node);
    const age = this.positions.readingAge(node, this.clock.now());
    return lag.ms === undefined || age === undefined ? undefined : lag.ms + age;
  }

  check(statement: Statement, candidates: readonly Node[]): Verdict {
    const bound = statement.maxStalenessMs;
    if (bound === undefined) return undefined;
    this.exempt.add(statement);
    const within = (n: Node): boolean => {
      const s = this.staleness(n);
      return s !== undefined && s <= bound;
    };
    let n = 0;
    for (const c of candidates) if (within(c)) n++;
    if (n === 0) {
      this.counters.boundedPrimaryReads++;
      return `maxStaleness: no replica is known to be within ${bound} ms`;
    }
    this.counters.boundedReplicaReads++;
    return n === candidates.length ? undefined : within;
  }
}
