import { rejectUnknownKeys, type Exact, type ExactKeys } from '../config-keys';
import { configError } from '../errors';

/**
 * The `health` section: how nodes are probed, when they are ejected and how fast a
 * failed write is reported. Every key is optional; `health: false` turns the probe off.
 *
 * @example
 * splitKnex({ client: 'pg', connection, replicas, health: { intervalMs: 500, failuresToDown: 3 } });
 */
export interface HealthConfig {
  /**
   * Time between two probes of a node that is up or suspect, in ms (default 1000). Lower
   * finds a dead node sooner at the cost of one tiny query per node per interval.
   */
  intervalMs?: number;
  /**
   * Bound on one probe (connect and query), in ms (default 1000). A node that accepts TCP
   * but never answers is ejected after `failuresToDown` probes of this length. Raise it on
   * overloaded servers whose answers legitimately take longer.
   */
  timeoutMs?: number;
  /**
   * Consecutive failures (failed probes; connection errors of the application's own
   * queries count once per probe) that eject a node (default 2). The first failure makes
   * it `suspect`: it still takes reads when no healthy replica is left.
   */
  failuresToDown?: number;
  /**
   * Cap of the re-probe backoff of a `down` node, in ms (default 2 × intervalMs). The
   * delay doubles from `intervalMs` up to this cap; a node that comes back is re-admitted
   * at most this long (plus one probe) after it answers again.
   */
  maxBackoffMs?: number;
  /**
   * Connect timeout of every node's pool connections, in ms (default 5000; 0 leaves
   * node-postgres's default, which waits forever). Applied as `connectionTimeoutMillis`
   * unless the connection sets it. It bounds how long a write waits for a primary that
   * is not yet known to be down before failing with `ESPLIT_PRIMARY_DOWN`.
   */
  connectTimeoutMs?: number;
  /**
   * Retry a read that failed with a connection error once on another node (default true).
   */
  retryReads?: boolean;
  /**
   * Which nodes' checked-out connections are closed when the node is ejected (default
   * `'replicas'`): their queries then fail with a connection error instead of hanging on a
   * server that stopped answering, and reads are retried elsewhere. `'all'` closes the
   * primary's too, so writes stuck on a hung primary fail with `ESPLIT_PRIMARY_DOWN`
   * (their outcome is unknown, as with any lost connection; a slow but live primary would
   * lose writes in flight that would have succeeded). `'none'` never closes anything.
   */
  closeOnDown?: 'replicas' | 'all' | 'none';
}

/** {@link HealthConfig} with defaults applied; `enabled: false` when `health: false`. */
export interface NormalizedHealthConfig {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  failuresToDown: number;
  maxBackoffMs: number;
  connectTimeoutMs: number;
  retryReads: boolean;
  closeOnDown: 'replicas' | 'all' | 'none';
  /** Follow a failover: from the top-level `discoverRoles` key. */
  discoverRoles: boolean;
}

/**
 * The defaults, justified in docs/failure-handling.md.
 *
 * @example
 * HEALTH_DEFAULTS.failuresToDown // 2
 */
export const HEALTH_DEFAULTS = {
  intervalMs: 1000,
  timeoutMs: 1000,
  failuresToDown: 2,
  connectTimeoutMs: 5000,
} as const;

const HEALTH_KEYS = ['intervalMs', 'timeoutMs', 'failuresToDown', 'maxBackoffMs', 'connectTimeoutMs', 'retryReads', 'closeOnDown'] as const;
// Compiles only while HEALTH_KEYS names exactly the keys of HealthConfig.
type HealthKeysExact = Exact<ExactKeys<HealthConfig, typeof HEALTH_KEYS>>;

/**
 * Validates the `health` and `discoverRoles` keys of a raw config eagerly and fills in
 * defaults. Errors name the key and the value (`ESPLIT_CONFIG`).
 *
 * @example
 * normalizeHealthConfig({ health: { intervalMs: 250 } }).maxBackoffMs // 500
 * normalizeHealthConfig({ health: { intervalMs: -1 } }) // throws: config key "health.intervalMs" must be …
 */
export function normalizeHealthConfig(raw: { health?: unknown; discoverRoles?: unknown; discover?: unknown }): NormalizedHealthConfig {
  // A topology that changes by itself (discover) changes its writer too: follow it by default.
  const discoverRoles = raw.discoverRoles ?? (raw.discover !== undefined && raw.health !== false);
  if (typeof discoverRoles !== 'boolean') throw configError('discoverRoles', discoverRoles, 'must be a boolean');
  const value = raw.health;
  const enabled = value !== false;
  if (value !== undefined && value !== false && value !== true && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw configError('health', value, 'must be an object of health options, true, or false (no probe)');
  }
  const h = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  rejectUnknownKeys('health', h, HEALTH_KEYS, 'a health option');
  const intervalMs = positiveInt(h, 'intervalMs', HEALTH_DEFAULTS.intervalMs, 10);
  const timeoutMs = positiveInt(h, 'timeoutMs', HEALTH_DEFAULTS.timeoutMs, 10);
  const failuresToDown = positiveInt(h, 'failuresToDown', HEALTH_DEFAULTS.failuresToDown, 1);
  const maxBackoffMs = positiveInt(h, 'maxBackoffMs', 2 * intervalMs, intervalMs);
  const connectTimeoutMs = h.connectTimeoutMs === 0 ? 0 : positiveInt(h, 'connectTimeoutMs', HEALTH_DEFAULTS.connectTimeoutMs, 1);
  if (discoverRoles && !enabled) throw configError('discoverRoles', discoverRoles, 'needs the health probe (remove `health: false`)');
  return {
    enabled,
    intervalMs,
    timeoutMs,
    failuresToDown,
    maxBackoffMs,
    connectTimeoutMs,
    retryReads: bool(h, 'retryReads', true),
    closeOnDown: closeOnDown(h.closeOnDown),
    discoverRoles,
  };
}

function positiveInt(h: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = h[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw configError(`health.${key}`, v, `must be an integer >= ${min}${key.endsWith('Ms') ? ' (milliseconds)' : ''}`);
  }
  return v;
}

function bool(h: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = h[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw configError(`health.${key}`, v, 'must be a boolean');
  return v;
}

function closeOnDown(v: unknown): 'replicas' | 'all' | 'none' {
  if (v === undefined) return 'replicas';
  if (v !== 'replicas' && v !== 'all' && v !== 'none') throw configError('health.closeOnDown', v, "must be 'replicas', 'all' or 'none'");
  return v;
}
