import { configError } from '../errors';
import type { Statement } from '../route/statement';
import type { NormalizedConfig } from '../config';
import type { SplitCore } from '../split-core';
import type { SplitKnex } from '../split-knex';
import { normalizeConsistencyConfig } from './consistency-config';
import { ConsistencyCounters } from './consistency-counters';
import type { ConsistencyMethods } from './consistency-methods';
import { ConsistencyScopes } from './consistency-scopes';
import { LagPolicy } from './lag-policy';
import { sqlPositionProbes } from './position-probe';
import { ReplicaPositions, type ReplicaPositionStats } from './replica-positions';
import { StickyPolicy, tablesFromClassifier } from './sticky-policy';
import { formatLsn } from './wal-position';
import { WriteTracker } from './write-tracker';

/**
 * `stats().consistency`.
 *
 * @example
 * const c = db.stats().consistency as ConsistencyStats;
 * console.log(c.replicas.map((r) => `${r.name}: ${r.lagMs} ms`), c.causalPrimaryReads);
 */
export interface ConsistencyStats {
  /** The configured `sticky.mode`. */
  mode: string;
  /** How writes are recorded now: `'window'` when LSN mode fell back. */
  effectiveMode: string;
  scope: string;
  /** Why LSN capture fell back to windows, if it did. */
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
 * The consistency subsystem: validates `sticky` / `lag`, adds the write hook, the sticky
 * and lag read policies, the position poller, `stats().consistency` and the public methods
 * of {@link ConsistencyMethods}.
 *
 * @example
 * // lib/subsystems.ts
 * const SUBSYSTEMS: Subsystem[] = [installConsistency];
 */
export function installConsistency(db: SplitKnex, core: SplitCore, config: NormalizedConfig): void {
  const options = normalizeConsistencyConfig(config.raw as Readonly<Record<string, unknown>>);
  if (options.lag.pollIntervalMs === 0 && (options.lag.maxLagMs !== undefined || options.lag.maxLagBytes !== undefined)) {
    throw configError('lag.pollIntervalMs', 0, 'must be > 0 when lag.maxLagMs or lag.maxLagBytes is set (lag is measured by the background poll)');
  }
  const counters = new ConsistencyCounters();
  const scopes = new ConsistencyScopes(core.scope, options);
  // Unusable now: known down, or refused by the health subsystem's writer guard (e.g. it answers as a standby).
  const primaryDown = (): boolean => {
    const writer = core.router.currentWriter;
    return writer.state === 'down' || core.router.writerGuard?.(writer) !== undefined;
  };
  const positions = new ReplicaPositions(() => core.router.currentWriter, core.replicas, sqlPositionProbes, {
    pollIntervalMs: options.lag.pollIntervalMs, pollTimeoutMs: options.lag.pollTimeoutMs, clock: options.clock,
  });
  const causal = new WeakSet<Statement>();
  const tracker = new WriteTracker(options, scopes, counters, core.replicas.length > 0, (m) => core.primary.client.logger.warn(m));

  core.lifecycles.push(positions);
  core.writeHooks.push((info) => tracker.afterWrite(info));
  core.router.policies.push(
    new StickyPolicy({
      options, scopes, positions, counters, causal,
      tablesOf: tablesFromClassifier(core.classifier, () => core.classifyOptions()),
      primaryDown,
    }),
    new LagPolicy(options, positions, counters, causal, primaryDown),
  );
  core.statsSections.set('consistency', (): ConsistencyStats => {
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
  });

  const methods: ConsistencyMethods = {
    runInContext: (fn, runOptions) => {
      if (runOptions?.token !== undefined) counters.tokensApplied++;
      return scopes.run(fn, runOptions);
    },
    consistencyMiddleware: (middlewareOptions) => scopes.middleware(middlewareOptions),
    resetConsistency: () => scopes.reset(),
    consistencyToken: () => scopes.token(),
    applyConsistencyToken: (token) => {
      scopes.applyToken(token);
      counters.tokensApplied++;
    },
  };
  Object.assign(db, methods);
}
