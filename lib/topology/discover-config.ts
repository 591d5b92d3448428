import { rejectUnknownKeys, type Exact, type ExactKeys } from '../config-keys';
import { configError } from '../errors';
import type { TopologyCallbackResult } from './callback-topology';
import type { HostPort, ReplicationRow } from './replication-topology';

/**
 * The `discover` section: where split-knex learns the cluster's shape at run time. One
 * source: Patroni's REST API, the primary's `pg_stat_replication` with a host map, or your
 * own function. Replicas it reports join (their own pool, a background connection, probes),
 * replicas it stops reporting drain; the health probe (role discovery, implied) decides
 * which node takes writes.
 *
 * @example
 * splitKnex({ client: 'pg', connection: 'postgres://app@10.0.0.1/app',
 *   discover: { patroni: ['http://10.0.0.1:8008', 'http://10.0.0.2:8008'], intervalMs: 1000 } });
 */
export interface DiscoverConfig {
  /** Patroni REST API base URLs (one per member is best); `GET /cluster` is read. */
  patroni?: string[];
  /** Read the writer's `pg_stat_replication`; `hosts` maps each standby's `application_name` to an address. */
  replication?: { hosts: Readonly<Record<string, HostPort>> | ((row: ReplicationRow) => HostPort | undefined) };
  /** Your own source: returns `{ members }` or an array of members (name, host, port, role, state?). */
  callback?: () => TopologyCallbackResult | Promise<TopologyCallbackResult>;
  /** Time between two reads of the source, in ms (default 1000). A new replica takes reads within one period. */
  intervalMs?: number;
  /** Bound on one read of the source, in ms (default 1000). */
  timeoutMs?: number;
}

/** {@link DiscoverConfig} after validation: exactly one source. */
export interface NormalizedDiscoverConfig {
  source: 'patroni' | 'replication' | 'callback';
  patroni: string[] | undefined;
  replication: DiscoverConfig['replication'];
  callback: DiscoverConfig['callback'];
  intervalMs: number;
  timeoutMs: number;
}

const DISCOVER_KEYS = ['patroni', 'replication', 'callback', 'intervalMs', 'timeoutMs'] as const;
// Compiles only while DISCOVER_KEYS names exactly the keys of DiscoverConfig.
type DiscoverKeysExact = Exact<ExactKeys<DiscoverConfig, typeof DISCOVER_KEYS>>;

/**
 * Validates the `discover` key eagerly (the sources validate their own details when built);
 * `undefined` when absent.
 *
 * @example
 * normalizeDiscoverConfig({ discover: { patroni: ['http://10.0.0.1:8008'] } })?.intervalMs // 1000
 * normalizeDiscoverConfig({ discover: {} }) // throws ESPLIT_CONFIG: "discover" needs one source
 */
export function normalizeDiscoverConfig(raw: { discover?: unknown }): NormalizedDiscoverConfig | undefined {
  const value = raw.discover;
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('discover', value, 'must be an object { patroni | replication | callback, intervalMs?, timeoutMs? }');
  }
  const d = value as Record<string, unknown>;
  rejectUnknownKeys('discover', d, DISCOVER_KEYS, 'a discover option');
  const given = (['patroni', 'replication', 'callback'] as const).filter((k) => d[k] !== undefined);
  if (given.length !== 1) throw configError('discover', value, `needs exactly one source: patroni, replication or callback (got ${given.length})`);
  const patroni = d['patroni'];
  if (patroni !== undefined && (!Array.isArray(patroni) || patroni.length === 0 || !patroni.every((u) => typeof u === 'string'))) {
    throw configError('discover.patroni', patroni, 'must be a non-empty array of Patroni REST URLs');
  }
  const replication = d['replication'] as Record<string, unknown> | undefined;
  if (replication !== undefined) {
    if (replication === null || typeof replication !== 'object' || Array.isArray(replication)) throw configError('discover.replication', replication, 'must be an object { hosts }');
    rejectUnknownKeys('discover.replication', replication, ['hosts'], 'a discover.replication option');
    const h = replication['hosts'];
    if (typeof h !== 'function' && (h === null || typeof h !== 'object' || Array.isArray(h))) {
      throw configError('discover.replication.hosts', h, 'must be an object { application_name: { host, port } } or a function (row) => { host, port }');
    }
  }
  const callback = d['callback'];
  if (callback !== undefined && typeof callback !== 'function') throw configError('discover.callback', callback, 'must be a function returning the members');
  return {
    source: given[0]!,
    patroni: patroni as string[] | undefined,
    replication: replication as DiscoverConfig['replication'],
    callback: callback as DiscoverConfig['callback'],
    intervalMs: int(d, 'intervalMs', 1000, 50),
    timeoutMs: int(d, 'timeoutMs', 1000, 10),
  };
}

function int(d: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = d[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw configError(`discover.${key}`, v, `must be an integer >= ${min} (milliseconds)`);
  return v;
}
