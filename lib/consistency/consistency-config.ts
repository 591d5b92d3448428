import { normalizeClock, type Clock, type NormalizedClock } from '../clock';
import { rejectUnknownKeys, type Exact, type ExactKeys } from '../config-keys';
import { configError } from '../errors';

/**
 * How reads after a write find that write (`sticky: { mode }`):
 * - `'lsn'`: a replica may take the read once it has replayed the write's WAL position;
 * - `'window'`: reads go to the primary for `windowMs` after a write;
 * - `'none'`: plain splitting, a read may be stale.
 *
 * @example
 * const mode: StickyMode = 'window';
 */
export type StickyMode = 'window' | 'lsn' | 'none';

/**
 * Where consistency state lives outside `db.runInContext()`: one per instance, or nowhere.
 *
 * @example
 * splitKnex({ ...config, sticky: { scope: 'none' } }); // only runInContext() scopes track writes
 */
export type ConsistencyScopeMode = 'global' | 'none';

/**
 * What a read does when every replica lags more than `maxLagMs` / `maxLagBytes`.
 *
 * @example
 * splitKnex({ ...config, lag: { maxLagMs: 500, onExceeded: 'error' } });
 */
export type LagExceededAction = 'primary' | 'wait' | 'error';

/**
 * The `sticky` section: read-your-writes.
 *
 * @example
 * splitKnex({ client: 'pg', connection, replicas, sticky: { mode: 'lsn', maxWaitMs: 20 } })
 */
export interface StickyConfig {
  /** Default `'lsn'` (falls back to `'window'` by itself if WAL positions cannot be read). */
  mode?: StickyMode;
  /** Window length after a commit, in ms (default 2000). Also the fallback window of `'lsn'` mode. */
  windowMs?: number;
  /** Window mode: only reads touching a written table stick (default false). */
  perTable?: boolean;
  /**
   * LSN mode: how long a read that must see its scope's writes may wait for a replica to
   * replay them before it uses the primary. Unset (the default): no wait while the primary
   * is not busy; while it is (every connection of this instance's pool in use, or its reads
   * taking over twice as long as the fastest replica's and at least 2 ms: a read sent there
   * would queue), up to {@link BUSY_PRIMARY_WAIT_MS}. A number sets the wait either way (0: never).
   */
  maxWaitMs?: number;
  /** State outside `db.runInContext()`: `'global'` (default, one per instance) or `'none'`. */
  scope?: ConsistencyScopeMode;
}

/**
 * The `lag` section: replica positions polled in the background and lag thresholds.
 *
 * @example
 * splitKnex({ client: 'pg', connection, replicas, lag: { maxLagMs: 500, onExceeded: 'primary' } })
 */
export interface LagConfig {
  /** Skip replicas whose replay is more than this many ms behind (default: no limit). */
  maxLagMs?: number;
  /** Skip replicas more than this many WAL bytes behind the primary (default: no limit). */
  maxLagBytes?: number;
  /** Background poll period in ms (default 1000; 0 polls only on demand). */
  pollIntervalMs?: number;
  /** Bound on one position query in ms (default 2000). */
  pollTimeoutMs?: number;
  /** Every replica lags too much: `'primary'` (default), `'wait'` (up to `maxWaitMs`, then primary) or `'error'` (`ESPLIT_NO_REPLICA`). */
  onExceeded?: LagExceededAction;
  /** With `onExceeded: 'wait'`: how long a read waits for a replica to catch up (default 1000). */
  maxWaitMs?: number;
  /**
   * Keep at least this many of the least-lagged replicas serving however far behind (default 0:
   * `maxLagMs`/`maxLagBytes` are a hard bound and `onExceeded` decides when every replica lags).
   * With 1 or more, reads are spread over the least-lagged replicas instead of piling onto one
   * replica or the primary when lag crosses the limit.
   */
  minReplicas?: number;
  /** A replica changes between serving and skipped at most once per this many ms (default 5000): no flapping near the limit. */
  hysteresisMs?: number;
}

/**
 * Time as the consistency subsystem reads it: the one {@link Clock} (wall clock: tokens carry absolute times).
 *
 * @deprecated Use `Clock` from the clock module; kept so existing imports compile.
 * @example
 * const clock: ConsistencyClock = { now: () => Date.now() };
 */
export type ConsistencyClock = Clock;

/**
 * With the default `sticky.maxWaitMs`, how long a read that must see its scope's writes may
 * wait for a replica while the primary is busy (no free connection in the instance's pool, or
 * reads there much slower than on the replicas): about what a
 * read queued for a connection of a saturated primary waits anyway, and enough for the
 * shared position read and a replica's replay on a busy cluster.
 */
export const BUSY_PRIMARY_WAIT_MS = 10;

/** The validated `sticky` + `lag` sections. @internal */
export interface ConsistencyOptions {
  mode: StickyMode;
  windowMs: number;
  perTable: boolean;
  /** The wait while the primary is not busy. */
  maxWaitMs: number;
  /** The wait while the primary is busy (no free connection, or slow reads). */
  busyWaitMs: number;
  scope: ConsistencyScopeMode;
  lag: {
    maxLagMs: number | undefined;
    maxLagBytes: number | undefined;
    pollIntervalMs: number;
    pollTimeoutMs: number;
    onExceeded: LagExceededAction;
    maxWaitMs: number;
    minReplicas: number;
    hysteresisMs: number;
  };
  clock: NormalizedClock;
}

const STICKY_KEYS = ['mode', 'windowMs', 'perTable', 'maxWaitMs', 'scope'] as const;
const LAG_KEYS = ['maxLagMs', 'maxLagBytes', 'pollIntervalMs', 'pollTimeoutMs', 'onExceeded', 'maxWaitMs', 'minReplicas', 'hysteresisMs'] as const;
// Compile only while the lists name exactly the keys of the section types.
type StickyKeysExact = Exact<ExactKeys<StickyConfig, typeof STICKY_KEYS>>;
type LagKeysExact = Exact<ExactKeys<LagConfig, typeof LAG_KEYS>>;

/**
 * Validates the `sticky`, `lag` (and `consistency.scope`) sections of a raw config eagerly.
 * The clock is `clock` when given (e.g. `NormalizedConfig.clock`), else the raw `clock` key
 * validated by `normalizeClock`.
 *
 * @example
 * normalizeConsistencyConfig({ sticky: { mode: 'window', windowMs: 1000 } }).windowMs // 1000
 * normalizeConsistencyConfig(n.raw, n.clock).clock === n.clock // true
 */
export function normalizeConsistencyConfig(raw: Readonly<Record<string, unknown>>, clock?: NormalizedClock): ConsistencyOptions {
  const sticky = section(raw, 'sticky', STICKY_KEYS);
  const lag = section(raw, 'lag', LAG_KEYS);
  const consistency = section(raw, 'consistency', ['scope']);

  const mode = oneOf('sticky.mode', sticky.mode, ['lsn', 'window', 'none'] as const) ?? 'lsn';
  let scope = oneOf('sticky.scope', sticky.scope, ['global', 'none'] as const);
  const aliasScope = oneOf('consistency.scope', consistency.scope, ['global', 'none'] as const);
  if (scope !== undefined && aliasScope !== undefined && scope !== aliasScope) {
    throw configError('consistency.scope', aliasScope, `contradicts sticky.scope (${JSON.stringify(scope)}); set one of them`);
  }
  scope ??= aliasScope ?? 'global';
  if (sticky.perTable !== undefined && typeof sticky.perTable !== 'boolean') {
    throw configError('sticky.perTable', sticky.perTable, 'must be a boolean');
  }
  const maxWaitMs = integer('sticky.maxWaitMs', sticky.maxWaitMs, 0);
  const options: ConsistencyOptions = {
    mode,
    windowMs: integer('sticky.windowMs', sticky.windowMs, 0) ?? 2000,
    perTable: sticky.perTable === true,
    // Unset: no wait while the primary has a free connection, a short one while it has none.
    maxWaitMs: maxWaitMs ?? 0,
    busyWaitMs: maxWaitMs ?? BUSY_PRIMARY_WAIT_MS,
    scope,
    lag: {
      maxLagMs: integer('lag.maxLagMs', lag.maxLagMs, 1),
      maxLagBytes: integer('lag.maxLagBytes', lag.maxLagBytes, 1),
      pollIntervalMs: integer('lag.pollIntervalMs', lag.pollIntervalMs, 0) ?? 1000,
      pollTimeoutMs: integer('lag.pollTimeoutMs', lag.pollTimeoutMs, 1) ?? 2000,
      onExceeded: oneOf('lag.onExceeded', lag.onExceeded, ['primary', 'wait', 'error'] as const) ?? 'primary',
      maxWaitMs: integer('lag.maxWaitMs', lag.maxWaitMs, 0) ?? 1000,
      minReplicas: integer('lag.minReplicas', lag.minReplicas, 0) ?? 0,
      hysteresisMs: integer('lag.hysteresisMs', lag.hysteresisMs, 0) ?? 5000,
    },
    clock: clock ?? normalizeClock(raw.clock),
  };
  if (options.lag.pollIntervalMs === 0 && (options.lag.maxLagMs !== undefined || options.lag.maxLagBytes !== undefined)) {
    throw configError('lag.pollIntervalMs', 0, 'must be > 0 when lag.maxLagMs or lag.maxLagBytes is set (lag is measured by the background poll)');
  }
  return options;
}

function section(raw: Readonly<Record<string, unknown>>, key: string, allowed: readonly string[]): Record<string, unknown> {
  const value = raw[key];
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError(key, value, 'must be an object');
  const obj = value as Record<string, unknown>;
  rejectUnknownKeys(key, obj, allowed, `a ${key} option`);
  return obj;
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw configError(key, value, `must be ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

function integer(key: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw configError(key, value, `must be an integer >= ${min}`);
  }
  return value;
}
