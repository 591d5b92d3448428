import { performance } from 'perf_hooks';
import { configError } from '../errors';
import { primaryReadsSlower } from '../route/read-times';
import type { Statement } from '../route/statement';
import type { SubsystemFactory } from '../subsystem';
import { normalizeConsistencyConfig } from './consistency-config';
import { CommitPositions, linkPositionReader } from './commit-positions';
import { ConsistencyCounters } from './consistency-counters';
import type { ConsistencyMethods } from './consistency-methods';
import { ConsistencyScopes } from './consistency-scopes';
import { LagPolicy } from './lag-policy';
import { primaryUnusable } from './primary-unusable';
import { linkPositionProbes } from './position-probe';
import { ReplicaPositions, type ReplicaPositionStats } from './replica-positions';
import { StalenessPolicy } from './staleness-policy';
import { schemaLagRetry } from './schema-lag-retry';
import { StickyPolicy, tablesFromClassifier } from './sticky-policy';
import { formatLsn } from '../wal-position';
import { WriteTracker } from './write-tracker';

/**
 * `stats().consistency`.
 *
 * @example
 * const c = db.stats().consistency;
 * console.log(c.replicas.map((r) => `${r.name}: ${r.lagMs} ms`), c.causalPrimaryReads);
 */
export interface ConsistencyStats {
  /** The configured `sticky.mode`. */
  mode: string;
  /** The mode writes are recorded in (the configured one: a failed position read costs one write a window, nothing more). */
  effectiveMode: string;
  scope: string;
  /** Why the last shared position read failed, if the last one did (transient). */
  lsnUnavailable: string | null;
  /** The primary's WAL position at the last poll. */
  primaryLsn: string | null;
  replicas: ReplicaPositionStats[];
  stickyPrimaryReads: number;
  pendingPrimaryReads: number;
  causalReplicaReads: number;
  causalPrimaryReads: number;
  causalWaits: number;
  causalWaitMs: number;
  busyPrimaryWaits: number;
  monotonicSkips: number;
  boundedReplicaReads: number;
  boundedPrimaryReads: number;
  primaryDownReads: number;
  lagSkippedReads: number;
  lagPrimaryReads: number;
  lagWaits: number;
  lagWaitMs: number;
  lagErrors: number;
  lsnCaptures: number;
  lsnCaptureMs: number;
  lsnCaptureFailures: number;
  tokensApplied: number;
  positionsApplied: number;
  /** Reads a replica answered 42P01/42703/42883/42704/3F000 while behind the primary, run again on the primary (schema lag). */
  schemaLagRetries: number;
}

/**
 * The consistency subsystem (read-your-writes): validates `sticky` / `lag`; joins the
 * pipeline with the sticky and lag read policies, an after-commit effect that records each
 * write's position (or window) in its scope, the background position poller (on each
 * node's background connection), `stats().consistency` and the methods of
 * {@link ConsistencyMethods}.
 *
 * @example
 * // lib/subsystems.ts
 * export const SUBSYSTEMS = [healthSubsystem, consistencySubsystem, …];
 */
export const consistencySubsystem: SubsystemFactory = (ctx) => {
  const options = normalizeConsistencyConfig(ctx.config.raw as Readonly<Record<string, unknown>>, ctx.clock);
  if (options.lag.pollIntervalMs === 0 && (options.lag.maxLagMs !== undefined || options.lag.maxLagBytes !== undefined)) {
    throw configError('lag.pollIntervalMs', 0, 'must be > 0 when lag.maxLagMs or lag.maxLagBytes is set (lag is measured by the background poll)');
  }
  const counters = new ConsistencyCounters();
  const router = ctx.router;
  const commits = new CommitPositions(linkPositionReader(ctx.links, () => router.currentWriter, options.lag.pollTimeoutMs), (err) => {
    ctx.logger.warn(`split-knex: cannot read the primary's WAL position (${err instanceof Error ? err.message : String(err)}); reads after a write stay on the primary until it can be read (at most windowMs, ${options.windowMs} ms)`);
  }, options.clock);
  const scopes = new ConsistencyScopes(ctx.scope, options, () => counters.tokensApplied++, commits);
  const primaryDown = (): boolean => primaryUnusable(router);
  const positions = new ReplicaPositions(() => router.currentWriter, ctx.replicas, linkPositionProbes(ctx.links), {
    pollIntervalMs: options.lag.pollIntervalMs, pollTimeoutMs: options.lag.pollTimeoutMs, clock: options.clock,
  });
  const causal = new WeakSet<Statement>();
  const tracker = new WriteTracker(options, scopes, commits, () => ctx.replicas.length > 0);

  const methods: ConsistencyMethods = {
    runInContext: (fn, runOptions) => scopes.run(fn, runOptions),
    consistencyMiddleware: (middlewareOptions) => scopes.middleware(middlewareOptions),
    resetConsistency: () => scopes.reset(),
    consistencyToken: () => scopes.token(),
    applyConsistencyToken: (token) => scopes.applyToken(token),
    applyPosition: (position) => {
      scopes.applyPosition(position);
      counters.positionsApplied++;
    },
  };
  return {
    name: 'consistency',
    readPolicies: [
      new StickyPolicy({
        options, scopes, positions, commits, counters, causal,
        tablesOf: tablesFromClassifier(ctx.classifier, () => ctx.classifyOptions()),
        primaryDown,
        // A read sent there would queue: every connection of the instance's pool is busy, or
        // its reads take much longer than the replicas' (a saturated server).
        primaryBusy: () => router.currentWriter.poolFull() || primaryReadsSlower(router.currentWriter, router.replicas, performance.now()),
      }),
      new StalenessPolicy(positions, counters, options.clock, causal),
      new LagPolicy(options, positions, counters, causal, primaryDown, options.lag.minReplicas > 0
        ? { minReplicas: options.lag.minReplicas, hysteresisMs: options.lag.hysteresisMs, now: () => options.clock.now() }
        : undefined),
    ],
    retry: schemaLagRetry({ router, positions, count: () => counters.schemaLagRetries++, emit: (e) => ctx.emit('read-retry', e) }),
    afterCommit: (write) => tracker.afterWrite(write),
    // Monotonic reads: a request/job scope never reads from a replica behind one it read from.
    // Not the instance-wide state: every request of the process would then chase the replica
    // polled last, and weights would mean nothing.
    routed: (decision, _statement, inTransaction) => {
      if (inTransaction || decision.access !== 'read' || decision.node.role !== 'replica' || options.mode === 'none') return;
      const state = scopes.own();
      if (state === undefined) return;
      const seen = positions.replayed(decision.node);
      if (seen !== undefined) state.noteSeen(seen);
    },
    background: {
      start: () => { commits.start(); positions.start(); },
      ready: () => positions.ready(),
      stop: () => { commits.stop(); return positions.stop(); },
    },
    // Replicas that join or leave at run time (topology discovery) are polled, or forgotten.
    nodesChanged: ({ added, removed }) => {
      for (const node of added) positions.addReplica(node);
      for (const node of removed) positions.removeReplica(node);
    },
    stats: (): ConsistencyStats => {
      const primary = positions.primaryPosition;
      return {
        mode: options.mode,
        effectiveMode: tracker.effectiveMode,
        scope: options.scope,
        lsnUnavailable: tracker.lsnUnavailable ?? null,
        primaryLsn: primary === undefined ? null : formatLsn(primary),
        replicas: positions.stats(),
        ...(counters.snapshot() as unknown as Omit<ConsistencyStats, 'mode' | 'effectiveMode' | 'scope' | 'lsnUnavailable' | 'primaryLsn' | 'replicas'>),
        lsnCaptures: commits.reads,
        lsnCaptureMs: Math.round(commits.readMs * 10) / 10,
      };
    },
    methods: methods as unknown as Record<string, (...args: any[]) => unknown>,
  };
};
