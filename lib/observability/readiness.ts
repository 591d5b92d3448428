import { configError } from '../errors';
import type { LifecycleState } from '../lifecycle';
import type { NodeState } from '../route/node';
import type { SplitKnexStats } from '../stats';

/**
 * Options of `db.readiness()`.
 *
 * @example
 * await db.readiness({ minReplicas: 1, maxLagMs: 5000 });
 */
export interface ReadinessOptions {
  /**
   * Replicas that must be serving for `ok` (default 0, or 1 with `routing.fallback: 'error'`,
   * where reads fail without one). Raise it when the primary cannot take the read load alone.
   */
  minReplicas?: number;
  /**
   * A replica lagging more than this (ms, at the last position poll) does not count as
   * serving; one whose lag is unknown does not either. Unset: lag does not matter.
   */
  maxLagMs?: number;
}

/** The writer as the readiness probe sees it. */
export interface ReadinessPrimary {
  node: string;
  state: NodeState;
  /** The last health probe answered and the node is not down; `null` with `health: false` (unknown). */
  reachable: boolean | null;
  /** The last probe answered as a primary (not in recovery); `null` when unknown. */
  writable: boolean | null;
  /** Time since the last probe (answered or failed), ms; `null` before the first. */
  probedMsAgo: number | null;
  lastError: string | null;
}

/** One replica as the readiness probe sees it. */
export interface ReadinessReplica {
  node: string;
  state: NodeState;
  /** Not down and, with `maxLagMs`, known to be within it. */
  serving: boolean;
  lagMs: number | null;
  lagBytes: number | null;
  /** Time since its position was last read, ms. */
  polledMsAgo: number | null;
}

/**
 * What `db.readiness()` returns. `ok` is true when the instance is running, the writer is
 * reachable and writable (when health probes are on), and at least `minReplicas` replicas
 * are serving; `reasons` says why not, one sentence each.
 *
 * @example
 * const r = await db.readiness();
 * res.status(r.ok ? 200 : 503).json(r);
 */
export interface ReadinessReport {
  ok: boolean;
  reasons: string[];
  /** The lifecycle state: `running` once started; `destroyed` after `destroy()`. */
  state: LifecycleState;
  checkedAt: string;
  primary: ReadinessPrimary;
  replicas: ReadinessReplica[];
  servingReplicas: number;
  minReplicas: number;
}

/** Validated {@link ReadinessOptions}. @internal */
export interface NormalizedReadinessOptions {
  minReplicas: number;
  maxLagMs: number | undefined;
}

/**
 * The `minReplicas` of an instance when the caller gives none: 1 when reads fail without a
 * replica (`routing.fallback: 'error'` with replicas configured), else 0 (reads fall back to
 * the primary).
 *
 * @example
 * defaultMinReplicas('error', 2) // 1
 */
export function defaultMinReplicas(fallback: 'primary' | 'error', replicas: number): number {
  return fallback === 'error' && replicas > 0 ? 1 : 0;
}

/**
 * Validates the options of `db.readiness()`; a wrong value throws `ESPLIT_CONFIG` naming it.
 *
 * @example
 * normalizeReadinessOptions({ maxLagMs: 5000 }, 0) // { minReplicas: 0, maxLagMs: 5000 }
 */
export function normalizeReadinessOptions(options: ReadinessOptions | undefined, defaultMinReplicas: number): NormalizedReadinessOptions {
  const { minReplicas = defaultMinReplicas, maxLagMs } = options ?? {};
  if (!Number.isInteger(minReplicas) || minReplicas < 0) throw configError('readiness.minReplicas', minReplicas, 'must be a non-negative integer');
  if (maxLagMs !== undefined && !(typeof maxLagMs === 'number' && Number.isFinite(maxLagMs) && maxLagMs >= 0)) {
    throw configError('readiness.maxLagMs', maxLagMs, 'must be a non-negative number of milliseconds');
  }
  return { minReplicas, maxLagMs };
}

/**
 * The readiness report from a `stats()` snapshot: no query, no connection; every fact was
 * measured by the background work (health probes, position polls) that already runs.
 *
 * @example
 * evaluateReadiness(db.stats(), { minReplicas: 0, maxLagMs: undefined }, Date.now()).ok
 */
export function evaluateReadiness(stats: SplitKnexStats, options: NormalizedReadinessOptions, now: number): ReadinessReport {
  const health = stats.health;
  const writer = stats.nodes.find((n) => n.name === health.writer) ?? stats.nodes[0]!;
  const h = health.nodes[writer.name];
  const probedAt = h?.lastProbeAt === undefined ? undefined : Date.parse(h.lastProbeAt);
  const primary: ReadinessPrimary = {
    node: writer.name,
    state: writer.state,
    reachable: health.enabled ? writer.state !== 'down' && h?.inRecovery !== undefined : null,
    writable: h?.inRecovery === undefined ? null : !h.inRecovery,
    probedMsAgo: probedAt === undefined ? null : Math.max(0, now - probedAt),
    lastError: h?.lastError ?? null,
  };
  const positions = new Map(stats.consistency.replicas.map((r) => [r.name, r]));
  const replicas: ReadinessReplica[] = stats.nodes.filter((n) => n.role === 'replica' && n.name !== writer.name).map((n) => {
    const p = positions.get(n.name);
    const lagMs = p?.lagMs ?? null;
    const withinLag = options.maxLagMs === undefined || (lagMs !== null && lagMs <= options.maxLagMs);
    return { node: n.name, state: n.state, serving: n.state !== 'down' && withinLag, lagMs, lagBytes: p?.lagBytes ?? null, polledMsAgo: p?.polledMsAgo ?? null };
  });
  const servingReplicas = replicas.filter((r) => r.serving).length;

  const reasons: string[] = [];
  const state = stats.background.state;
  if (state !== 'running') reasons.push(state === 'destroyed' ? 'the instance was destroyed' : 'the instance has not started');
  if (primary.reachable === false) {
    reasons.push(writer.state === 'down'
      ? `the primary (${writer.name}) is down${primary.lastError === null ? '' : `: ${primary.lastError}`}`
      : `the primary (${writer.name}) has not answered a health probe yet`);
  } else if (primary.writable === false) {
    reasons.push(`the primary (${writer.name}) answers as a standby`);
  }
  if (servingReplicas < options.minReplicas) {
    reasons.push(`${servingReplicas} replica(s) serving, ${options.minReplicas} required${options.maxLagMs === undefined ? '' : ` (within ${options.maxLagMs} ms of lag)`}`);
  }
  return {
    ok: reasons.length === 0, reasons, state, checkedAt: new Date(now).toISOString(),
    primary, replicas, servingReplicas, minReplicas: options.minReplicas,
  };
}
