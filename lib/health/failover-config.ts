import { rejectUnknownKeys, type Exact, type ExactKeys } from '../config-keys';
import { configError } from '../errors';

/**
 * The `failover` section: what statements do while no writable primary is known.
 *
 * @example
 * splitKnex({ ...config, discoverRoles: true, failover: { holdWritesMs: 8000 } });
 */
export interface FailoverConfig {
  /**
   * How long a statement bound for the writer waits for a writable primary when none is
   * known (the writer is down, or answers as a standby), in ms (default 0: it fails at once
   * with `ESPLIT_PRIMARY_DOWN`). Set it above your failover manager's promotion time
   * (Patroni: about `ttl` + `loop_wait`) so writes issued during a failover succeed late
   * instead of failing. Held statements were never sent: a write whose outcome is unknown
   * (in flight when the primary died) is never replayed (`ESPLIT_WRITE_UNKNOWN`).
   */
  holdWritesMs?: number;
}

/** {@link FailoverConfig} with defaults applied. */
export interface NormalizedFailoverConfig {
  holdWritesMs: number;
}

const FAILOVER_KEYS = ['holdWritesMs'] as const;
// Compiles only while FAILOVER_KEYS names exactly the keys of FailoverConfig.
type FailoverKeysExact = Exact<ExactKeys<FailoverConfig, typeof FAILOVER_KEYS>>;

/**
 * Validates the `failover` key of a raw config; errors name the key and the value.
 *
 * @example
 * normalizeFailoverConfig({ failover: { holdWritesMs: 5000 } }) // { holdWritesMs: 5000 }
 * normalizeFailoverConfig({ failover: { holdWritesMs: -1 } })   // throws ESPLIT_CONFIG "failover.holdWritesMs"
 */
export function normalizeFailoverConfig(raw: { failover?: unknown }): NormalizedFailoverConfig {
  const value = raw.failover;
  if (value === undefined) return { holdWritesMs: 0 };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError('failover', value, 'must be an object { holdWritesMs? }');
  const f = value as Record<string, unknown>;
  rejectUnknownKeys('failover', f, FAILOVER_KEYS, 'a failover option');
  const hold = f.holdWritesMs ?? 0;
  if (typeof hold !== 'number' || !Number.isInteger(hold) || hold < 0 || hold > 600_000) {
    throw configError('failover.holdWritesMs', hold, 'must be an integer in 0–600000 (milliseconds)');
  }
  return { holdWritesMs: hold };
}
