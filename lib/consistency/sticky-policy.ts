import { performance } from 'perf_hooks';
import type { SqlClassifier, ClassifyOptions } from '../classify';
import type { Node } from '../route/node';
import type { ReadPolicy } from '../route/router';
import type { Statement } from '../route/statement';
import type { CommitPositions } from './commit-positions';
import type { ConsistencyOptions } from './consistency-config';
import type { ConsistencyCounters } from './consistency-counters';
import type { ConsistencyScopes } from './consistency-scopes';
import type { ConsistencyState } from './consistency-state';
import type { ReplicaPositions } from './replica-positions';
import { formatLsn } from '../wal-position';

/**
 * Between two position queries while a read waits for a replica to catch up: a third of the
 * read's budget, within these bounds (a 10 ms busy-primary wait asks about three times; a
 * long explicit `maxWaitMs` every 10 ms). The reads waiting at the same time share them.
 */
const CAUSAL_POLL_STEP_MS = 10;
const CAUSAL_POLL_MIN_STEP_MS = 2;
/** The first on-demand position query may take this long even with `maxWaitMs: 0` (a hung replica costs a read no more). */
export const FIRST_REFRESH_BOUND_MS = 100;

/**
 * A read this soon after its scope's write goes to the primary at once (a replica rarely has
 * replayed it yet); an older pending write (a token from another request, a read much later)
 * is worth one shared position read first.
 */
export const YOUNG_WRITE_MS = 20;

type Verdict = undefined | string | ((node: Node) => boolean);

/** What {@link StickyPolicy} needs from the instance. */
export interface StickyPolicyDeps {
  options: ConsistencyOptions;
  scopes: ConsistencyScopes;
  positions: ReplicaPositions;
  /** Where a scope's pending write position is read (shared, coalesced). */
  commits: CommitPositions;
  counters: ConsistencyCounters;
  /** Reads whose causal requirement a replica met: the lag policy leaves them alone. */
  causal: WeakSet<Statement>;
  /** The tables a read touches (per-table windows only). */
  tablesOf: (statement: Statement) => readonly string[];
  /** True while the health checks hold the primary down. */
  primaryDown: () => boolean;
  /**
   * True while a read sent to the primary would queue: every connection of the instance's
   * primary pool is busy, or the primary's reads take much longer than the replicas'.
   */
  primaryBusy: () => boolean;
}

/**
 * Read-your-writes for reads that could go to a replica: a sticky window sends the read to
 * the primary; a write whose position is still being read sends it to the primary too (it
 * needed it anyway) and asks for the position; a causal position (the scope's writes, or
 * for monotonic reads the position it last read at) lets the read go only to replicas that
 * replayed it, asking them on demand and waiting up to `maxWaitMs` when one is predicted
 * to catch up within it, else the primary at once. With the default `maxWaitMs`, that budget
 * is 0 while the primary is not busy and `BUSY_PRIMARY_WAIT_MS` while it is (no free
 * connection, or reads there much slower than on the replicas): a read that would queue for
 * the primary waits for a replica instead.
 *
 * @example
 * readPolicies: [new StickyPolicy(deps), lagPolicy]
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
    if (state.pending !== 0 && !scopes.settle(state)) {
      if (now - state.pendingAt >= options.windowMs) {
        // Never read within windowMs (failing reads): the write had a window, and it ended.
        state.dropPending();
        this.deps.counters.lsnCaptureFailures++;
      } else {
        const wait = this.waitBudget();
        if (wait > 0 || now - state.pendingAt >= YOUNG_WRITE_MS) return this.awaitPosition(statement, state, candidates, wait);
        // No I/O here: the primary had to take this read anyway; the position is read in the
        // background while the instance writes, or by the first read that can use it.
        const verdict = this.stick('read-your-writes: the write\'s WAL position is being read', true);
        if (verdict !== undefined) return verdict;
      }
    }
    return this.causal(statement, state, candidates, now, undefined);
  }

  // How long a read may wait for a replica: `maxWaitMs`, or with the default, a busy
  // primary's budget while the primary is busy (the read would queue there).
  private waitBudget(): number {
    const { options } = this.deps;
    // An explicit maxWaitMs is the same either way: no need to look at the pool.
    if (options.busyWaitMs === options.maxWaitMs || !this.deps.primaryBusy()) return options.maxWaitMs;
    this.deps.counters.busyPrimaryWaits++;
    return options.busyWaitMs;
  }

  // The read may spend its budget (at least the first-refresh bound: a write that is not
  // young, e.g. from a token, is likely replayed already) on the shared position read, then
  // on replay. It needs the writes that returned before it started: the ticket pending now.
  // A write of the scope that commits while it waits (another request of an instance-wide
  // scope) is concurrent with it and does not hold it back.
  private async awaitPosition(statement: Statement, state: ConsistencyState, candidates: readonly Node[], wait: number): Promise<Verdict> {
    const { options, scopes, commits } = this.deps;
    const began = performance.now();
    const ticket = state.pending;
    await within(commits.request(ticket), Math.max(wait, FIRST_REFRESH_BOUND_MS));
    if (!scopes.settleUpTo(state, ticket)) {
      const verdict = this.stick('read-your-writes: the write\'s WAL position is being read', true);
      if (verdict !== undefined) return verdict;
    }
    const budget = Math.max(0, wait - (performance.now() - began));
    return this.causal(statement, state, candidates, options.clock.now(), budget);
  }

  // `budget` undefined: the default one, worked out only when no replica is known to have
  // caught up (a read that could wait).
  private causal(statement: Statement, state: ConsistencyState, candidates: readonly Node[], now: number, budget: number | undefined): Verdict | Promise<Verdict> {
    const need = maxOf(state.lsn, state.floor);
    if (need === undefined) return undefined;
    const caught = this.caughtUp(candidates, need);
    if (caught > 0) {
      // The others' cached positions may just be old: refresh them in the background, or
      // the replica polled last would take every read that follows a write (weights lost).
      if (caught < candidates.length) {
        this.refreshBehind(candidates, need);
        if (state.floor === need && (state.lsn === undefined || state.lsn < need)) this.deps.counters.monotonicSkips++;
      }
      return this.causalOk(statement, need, caught, candidates.length);
    }
    const askable = candidates.filter((n) => this.deps.positions.canProbe(n));
    if (askable.length === 0) return this.blind(state, now);
    // Wait (and ask) only when a replica is predicted to replay the position within the budget.
    const wait = budget ?? this.waitBudget();
    const by = now + wait;
    if (!askable.some((n) => (this.deps.positions.predictReplayAt(n, need) ?? -Infinity) <= by)) {
      // A prediction from an old reading may be wrong (a delayed replica replays in bursts):
      // refresh it in the background so the next read decides on a fresh one.
      this.refreshOld(askable, now);
      return this.toPrimary(need, `no replica is predicted to replay it within ${Math.round(wait)} ms`);
    }
    return this.waitForReplay(statement, state, need, askable, candidates.length, wait);
  }

  // Counts without allocating: this runs for every read of a scope that wrote.
  private caughtUp(candidates: readonly Node[], need: bigint): number {
    let n = 0;
    for (const node of candidates) if (this.hasReplayed(node, need)) n++;
    return n;
  }

  // The primary (when it takes a share of reads) has every write.
  private hasReplayed(node: Node, need: bigint): boolean {
    if (node.role === 'primary') return true;
    const replayed = this.deps.positions.replayed(node);
    return replayed !== undefined && replayed >= need;
  }

  // In the background, a probe already running brings the fresh reading: share it (one per
  // replica at a time, not one per read).
  private refreshBehind(candidates: readonly Node[], need: bigint): void {
    const positions = this.deps.positions;
    for (const node of candidates) {
      if (!this.hasReplayed(node, need) && positions.canProbe(node)) void positions.refresh(node);
    }
  }

  private refreshOld(nodes: readonly Node[], now: number): void {
    const positions = this.deps.positions;
    for (const node of nodes) {
      if ((positions.readingAge(node, now) ?? Infinity) > CAUSAL_POLL_STEP_MS) void positions.refresh(node);
    }
  }

  private causalOk(statement: Statement, need: bigint, caught: number, candidateCount: number): Verdict {
    this.deps.counters.causalReplicaReads++;
    if (this.deps.options.lag.maxLagMs !== undefined || this.deps.options.lag.maxLagBytes !== undefined) this.deps.causal.add(statement);
    if (caught === candidateCount) return undefined;
    return (n) => this.hasReplayed(n, need);
  }

  // A read that should go to the primary while the primary is down: the freshest copy left
  // is on the replicas (a caught-up one if any): availability wins, and stats() counts it.
  private stick(reason: string, pending = false): string | undefined {
    if (this.deps.primaryDown()) {
      this.deps.counters.primaryDownReads++;
      return undefined;
    }
    if (pending) this.deps.counters.pendingPrimaryReads++;
    else this.deps.counters.stickyPrimaryReads++;
    return reason;
  }

  private toPrimary(need: bigint, why: string): Verdict {
    if (this.deps.primaryDown()) {
      this.deps.counters.primaryDownReads++;
      return undefined;
    }
    this.deps.counters.causalPrimaryReads++;
    return `causal: no replica has replayed ${formatLsn(need)} (${why})`;
  }

  // No replica reports a position (unreachable, or not a standby): fall back to a window
  // counted from the write, the only promise left to keep.
  private blind(state: ConsistencyState, now: number): Verdict {
    const left = state.lsnAt + this.deps.options.windowMs - now;
    return left > 0 ? this.stick(`sticky window (${left} ms left; no replica reports its WAL position)`) : undefined;
  }

  private async waitForReplay(
    statement: Statement, state: ConsistencyState, need: bigint, askable: Node[], candidateCount: number, budget: number,
  ): Promise<Verdict> {
    const { positions, counters, options } = this.deps;
    const began = performance.now();
    const step = Math.min(CAUSAL_POLL_STEP_MS, Math.max(CAUSAL_POLL_MIN_STEP_MS, budget / 3));
    counters.causalWaits++;
    // A probe running when the read starts waiting, then any started after it last looked,
    // is news to it, whoever started it: the reads waiting at the same time share one probe
    // per replica instead of one each (which kept two probes running per replica under load).
    let seen: number | undefined;
    try {
      for (let round = 0; ; round++) {
        const left = budget - (performance.now() - began);
        const answered = answeredOrCaughtUp(askable, positions, seen, () => this.caughtUp(askable, need) > 0);
        await within(answered, round === 0 ? Math.max(left, FIRST_REFRESH_BOUND_MS) : left);
        seen = positions.mark;
        const caught = this.caughtUp(askable, need);
        if (caught > 0) return this.causalOk(statement, need, caught, candidateCount);
        // Every replica answered without a position (not standbys, or failing): nothing can
        // prove the write is there. Replicas merely slow to answer are not "blind".
        if (askable.every((n) => positions.reportsNoPosition(n))) return this.blind(state, options.clock.now());
        const remaining = budget - (performance.now() - began);
        if (remaining <= 0) return this.toPrimary(need, `waited ${Math.round(performance.now() - began)} ms`);
        await sleep(Math.min(step, remaining));
      }
    } finally {
      counters.causalWaitMs += performance.now() - began;
    }
  }
}

function maxOf(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  return b === undefined || a >= b ? a : b;
}

/**
 * Refreshes every node (probes started after `mark`; undefined: any running one) and
 * resolves when all answered. Once an answer shows a node that has caught up, the others
 * get as long again as that answer took: a replica much slower to answer (a node at its
 * CPU quota can take a whole scheduling period) does not hold a read another replica can
 * serve, while replicas answering alike all count, so the weights still share the reads.
 * `nodes` is never empty (a read with no replica to ask does not wait); a replica that never
 * answers is bounded by the caller.
 */
function answeredOrCaughtUp(nodes: readonly Node[], positions: ReplicaPositions, mark: number | undefined, caughtUp: () => boolean): Promise<void> {
  const began = performance.now();
  let unanswered = nodes.length;
  let grace: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve) => {
    for (const n of nodes) {
      // refresh() never rejects.
      void positions.refresh(n, mark).then(() => {
        if (--unanswered === 0) resolve();
        else if (grace === undefined && caughtUp()) grace = setTimeout(resolve, performance.now() - began);
      });
    }
  }).finally(() => clearTimeout(grace));
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
