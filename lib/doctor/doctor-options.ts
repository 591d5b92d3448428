import { configError } from '../errors';
import { DEFAULT_DOCTOR_TIMEOUT_MS } from './raw-connection';

/**
 * Options of `db.doctor()` and `split-knex doctor`.
 *
 * @example
 * await db.doctor({ instances: 4, samples: 8 });
 */
export interface DoctorOptions {
  /**
   * How many processes run this configuration against the same databases (each has its
   * own pools); pool sizes are checked as `pool.max × instances` against `max_connections`.
   * Default 1: set it to your replica count × workers in production.
   */
  instances?: number;
  /**
   * NEW connections opened per node to tell one server from a load balancer (default 6).
   * A round-robin balancer over two servers shows both within 2; a random one within 6
   * with a probability of about 97%.
   */
  samples?: number;
  /** Bound on each connect and statement, ms (default 5000). */
  timeoutMs?: number;
  /** A standby further behind than this many seconds is flagged (default 30). */
  maxLagSeconds?: number;
  /** A standby further behind than this many bytes of WAL is flagged (default 16 MiB). */
  maxLagBytes?: number;
}

/** {@link DoctorOptions} with defaults applied. */
export type ResolvedDoctorOptions = Required<DoctorOptions>;

/**
 * Validates doctor options eagerly, naming the key and the value.
 *
 * @example
 * resolveDoctorOptions({ samples: 8 }).instances // 1
 */
export function resolveDoctorOptions(options: DoctorOptions = {}): ResolvedDoctorOptions {
  if (options === null || typeof options !== 'object') throw configError('doctor(options)', options, 'must be an object');
  const known = new Set(['instances', 'samples', 'timeoutMs', 'maxLagSeconds', 'maxLagBytes']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw configError(`doctor.${key}`, (options as Record<string, unknown>)[key], `is not a doctor option (expected one of ${[...known].join(', ')})`);
  }
  return {
    instances: integer('instances', options.instances, 1, 1),
    samples: integer('samples', options.samples, 6, 0),
    timeoutMs: integer('timeoutMs', options.timeoutMs, DEFAULT_DOCTOR_TIMEOUT_MS, 1),
    maxLagSeconds: positive('maxLagSeconds', options.maxLagSeconds, 30),
    maxLagBytes: positive('maxLagBytes', options.maxLagBytes, 16 * 1024 * 1024),
  };
}

function integer(key: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw configError(`doctor.${key}`, value, `must be an integer >= ${min}`);
  }
  return value;
}

function positive(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw configError(`doctor.${key}`, value, 'must be a finite number >= 0');
  }
  return value;
}
