import { configError } from '../errors';
import type { Statement } from '../route/statement';
import type { SubsystemFactory } from '../subsystem';
import { normalizeConsistencyConfig } from './consistency-config';
import { ConsistencyCounters } from './consistency-counters';
import type { ConsistencyMethods } from './consistency-methods';
import { ConsistencyScopes } from './consistency-scopes';
import { LagPolicy } from './lag-policy';
import { linkPositionProbes } from './position-probe';
import { ReplicaPositions, type ReplicaPositionStats } from './replica-positions';
import { StickyPolicy, tablesFromClassifier } from './sticky-policy';
import { formatLsn } from './wal-position';
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
  /** Why the last position read failed, if the last one did (transient). */
  lsnUnavailable: string | null;
  /** The primary's WAL position at the last poll. */
  primaryLsn: string | null;
  replicas: ReplicaPositionStats[];
  stickyPrimaryReads: number;
  causalReplicaReads: number;
  causalPrimaryReads: number;
  causalWaits: number;
  causalWaitMs: number;
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
  const scopes = new ConsistencyScopes(ctx.scope, options, () => counters.tokensApplied++);
  const router = ctx.router;
  // Unusable now: known down, or refused by a writer guard (e.g. it answers as a standby).
  const primaryDown = (): boolean => {
    const writer = router.currentWriter;
    return writer.state === 'down' || router.writerRefusal(writer) !== undefined;
  };
  const positions = new ReplicaPositions(() => router.currentWriter, ctx.replicas, linkPositionProbes(ctx.links), {
    pollIntervalMs: options.lag.pollIntervalMs, pollTimeoutMs: options.lag.pollTimeoutMs, clock: options.clock,
  });
  const causal = new WeakSet<Statement>();
  const tracker = new WriteTracker(options, scopes, counters, ctx.replicas.length > 0, (m) => ctx.logger.warn(m));

  const methods: ConsistencyMethods = {
    runInContext: (fn, runOptions) => scopes.run(fn, runOptions),
    consistencyMiddleware: (middlewareOptions) => scopes.middleware(middlewareOptions),
    resetConsistency: () => scopes.reset(),
    consistencyToken: () => scopes.token(),
    applyConsistencyToken: (token) => scopes.applyToken(token),
  };
  return {
    name: 'consistency',
    readPolicies: [
      new StickyPolicy({
        options, scopes, positions, counters, causal,
        tablesOf: tablesFromClassifier(ctx.classifier, () => ctx.classifyOptions()),
        primaryDown,
      }),
      new LagPolicy(options, positions, counters, causal, primaryDown),
    ],
    afterCommit: (write) => tracker.afterWrite(write),
    background: positions,
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
      };
    },
    methods: methods as unknown as Record<string, (...args: any[]) => unknown>,
  };
};
