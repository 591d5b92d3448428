import type { Knex } from 'knex';
import { configError } from './errors';
import type { ReplicaSelectorFn } from './route/replica-selector';
import { connectionLabel } from './route/connection-label';
import type { LagConfig, StickyConfig } from './consistency/consistency-config';
import type { CatalogConfig } from './catalog/catalog-config';
import type { HealthConfig } from './health/health-config';
import type { CacheConfig } from './cache/cache-config';

/** A knex connection for one node: a URL, a connection object, or a provider function. */
export type NodeConnection = string | Knex.StaticConnectionConfig | Knex.ConnectionConfigProvider | Record<string, unknown>;

/** A replica written in full, with its own name, weight and pool. */
export interface ReplicaConfig {
  /** Shown in events, errors and `stats()`; defaults to `host:port`. */
  name?: string;
  connection: NodeConnection;
  /** Relative share of reads (default 1). A weight of 0 takes reads only when named. */
  weight?: number;
  /** Pool settings for this node, merged over the top-level `pool`. */
  pool?: Knex.PoolConfig;
}

/** How reads are spread over replicas. */
export type RoutingStrategy = 'round-robin' | 'random' | 'least-busy' | ReplicaSelectorFn;

/** The `routing` section. */
export interface RoutingConfig {
  /** Replica choice; default `'round-robin'`. Weights are honoured by every built-in strategy. */
  strategy?: RoutingStrategy;
  /**
   * What a read does when no replica is eligible (all down, all lagging):
   * `'primary'` (default) runs it on the primary; `'error'` fails fast with `ESPLIT_NO_REPLICA`.
   */
  fallback?: 'primary' | 'error';
  /** User functions known to be read-only: calls to them stay on replicas. */
  readOnlyFunctions?: string[];
  /** Bound of the classifier's memo of SQL texts (default 1000, 0 turns it off). */
  classifierCacheSize?: number;
  /** Retry a replica read refused with SQLSTATE 25006 once on the primary (default true). */
  retryMisroutes?: boolean;
}

/** Everything `splitKnex()` takes: a knexfile entry plus `replicas` and `routing`. */
export interface SplitKnexConfig extends Knex.Config {
  /** Replica connections: a list, or one comma-separated string of URLs. */
  replicas?: string | Array<string | ReplicaConfig | Knex.StaticConnectionConfig>;
  routing?: RoutingConfig;
  /** Catalog-aware routing (docs/catalog.md): `'auto'` (default with replicas), `false`, or `{ refreshMs?, searchPath? }`. */
  catalog?: CatalogConfig;
  /** Read-your-writes (docs/consistency.md); `lag`: replica lag polling and limits. */ sticky?: StickyConfig; lag?: LagConfig;
  /** Failure handling (docs/failure-handling.md): probes, ejection, retries; `false` turns the probe off. */
  health?: HealthConfig | boolean;
  /** Follow a failover: writes go to the node that answers as primary (docs/failure-handling.md). */
  discoverRoles?: boolean;
  /** Replica result cache (docs/caching.md); off unless present. */
  cache?: CacheConfig;
  /** Sections owned by the subsystems (health, consistency, cache, catalog). */
  [section: string]: unknown;
}

/** A node after validation. */
export interface NodeSpec {
  name: string;
  role: 'primary' | 'replica';
  connection: unknown;
  weight: number;
  pool: Knex.PoolConfig | undefined;
}

/** The validated, defaulted configuration. */
export interface NormalizedConfig {
  /** What each node's knex client is built from (our keys removed). */
  knexConfig: Knex.Config;
  primary: NodeSpec;
  replicas: NodeSpec[];
  routing: Required<Omit<RoutingConfig, 'readOnlyFunctions'>> & { readOnlyFunctions: string[] };
  /** The raw config, for subsystems that validate their own sections. */
  raw: Readonly<SplitKnexConfig>;
}

const PG_CLIENTS = new Set(['pg', 'postgres', 'postgresql']);
/** Keys split-knex owns; removed before the config reaches knex. */
export const SPLIT_KEYS = [
  'replicas', 'routing', 'health', 'discoverRoles', 'sticky', 'consistency', 'lag', 'cache', 'catalog', 'clock',
] as const;
const ROUTING_KEYS = new Set(['strategy', 'fallback', 'readOnlyFunctions', 'classifierCacheSize', 'retryMisroutes']);
const REPLICA_KEYS = new Set(['name', 'connection', 'weight', 'pool']);
// Near-misses of our own keys that would otherwise be silently ignored by knex.
const TYPOS: Record<string, string> = { replica: 'replicas', readReplicas: 'replicas', read: 'replicas', routes: 'routing', route: 'routing' };

/**
 * Validates a splitKnex config eagerly and fills in defaults.
 *
 * @example
 * const n = normalizeConfig({ client: 'pg', connection: url, replicas: 'postgres://r1/app,postgres://r2/app' });
 * n.replicas.length // 2
 */
export function normalizeConfig(config: SplitKnexConfig): NormalizedConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw configError('(config)', config, 'must be a knex config object');
  }
  const client = config.client ?? (config as { dialect?: unknown }).dialect;
  if (typeof client !== 'string' || !PG_CLIENTS.has(client)) {
    throw configError('client', client, "must be 'pg' (or 'postgres'/'postgresql'): split-knex routes PostgreSQL streaming replication only");
  }
  for (const key of Object.keys(config)) {
    const meant = TYPOS[key];
    if (meant !== undefined) throw configError(key, config[key], `is not a split-knex option (did you mean "${meant}"?)`);
  }
  if (config.connection === undefined && config.connectionPool === undefined) {
    throw configError('connection', undefined, 'is required (the primary)');
  }
  const knexConfig: Record<string, unknown> = { ...config, client: 'pg' };
  for (const key of SPLIT_KEYS) delete knexConfig[key];

  const primary: NodeSpec = {
    name: 'primary',
    role: 'primary',
    connection: config.connection,
    weight: 0,
    pool: config.pool,
  };
  const replicas = normalizeReplicas(config.replicas, config.pool);
  const names = new Set<string>(['primary']);
  for (const r of replicas) {
    if (names.has(r.name)) throw configError('replicas[].name', r.name, 'must be unique (and not "primary")');
    names.add(r.name);
  }
  return { knexConfig: knexConfig as Knex.Config, primary, replicas, routing: normalizeRouting(config.routing), raw: config };
}

function normalizeReplicas(value: SplitKnexConfig['replicas'], basePool: Knex.PoolConfig | undefined): NodeSpec[] {
  if (value === undefined || value === null) return [];
  const list: unknown[] = typeof value === 'string'
    ? value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
    : Array.isArray(value) ? value : [value];
  if (typeof value !== 'string' && !Array.isArray(value)) {
    throw configError('replicas', value, 'must be an array or a comma-separated string of URLs');
  }
  return list.map((entry, i) => normalizeReplica(entry, i, basePool));
}

function normalizeReplica(entry: unknown, i: number, basePool: Knex.PoolConfig | undefined): NodeSpec {
  const key = `replicas[${i}]`;
  if (typeof entry === 'string') {
    if (!/^postgres(ql)?:\/\//i.test(entry) && !entry.includes('=')) {
      throw configError(key, entry, 'must be a postgres:// URL, a connection object or { connection, name?, weight?, pool? }');
    }
    return { name: connectionLabel(entry, i), role: 'replica', connection: entry, weight: 1, pool: basePool };
  }
  if (typeof entry === 'function') {
    return { name: `replica${i + 1}`, role: 'replica', connection: entry, weight: 1, pool: basePool };
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw configError(key, entry, 'must be a postgres:// URL, a connection object or { connection, name?, weight?, pool? }');
  }
  const obj = entry as Record<string, unknown>;
  if (!('connection' in obj)) {
    // A bare knex connection object.
    return { name: connectionLabel(obj, i), role: 'replica', connection: obj, weight: 1, pool: basePool };
  }
  for (const k of Object.keys(obj)) {
    if (!REPLICA_KEYS.has(k)) throw configError(`${key}.${k}`, obj[k], `is not a replica option (expected one of ${[...REPLICA_KEYS].join(', ')})`);
  }
  const conn = obj.connection;
  if (conn === undefined || conn === null || (typeof conn !== 'string' && typeof conn !== 'object' && typeof conn !== 'function')) {
    throw configError(`${key}.connection`, conn, 'must be a URL, a connection object or a provider function');
  }
  const name = obj.name === undefined ? connectionLabel(conn, i) : obj.name;
  if (typeof name !== 'string' || name.length === 0) throw configError(`${key}.name`, name, 'must be a non-empty string');
  const weight = obj.weight === undefined ? 1 : obj.weight;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw configError(`${key}.weight`, weight, 'must be a finite number >= 0');
  }
  if (obj.pool !== undefined && (obj.pool === null || typeof obj.pool !== 'object')) {
    throw configError(`${key}.pool`, obj.pool, 'must be a knex pool config object');
  }
  const pool = obj.pool === undefined ? basePool : { ...basePool, ...(obj.pool as Knex.PoolConfig) };
  return { name, role: 'replica', connection: conn, weight, pool };
}

function normalizeRouting(value: unknown): NormalizedConfig['routing'] {
  const out: NormalizedConfig['routing'] = {
    strategy: 'round-robin', fallback: 'primary', readOnlyFunctions: [], classifierCacheSize: 1000, retryMisroutes: true,
  };
  if (value === undefined) return out;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError('routing', value, 'must be an object');
  const r = value as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!ROUTING_KEYS.has(k)) throw configError(`routing.${k}`, r[k], `is not a routing option (expected one of ${[...ROUTING_KEYS].join(', ')})`);
  }
  if (r.strategy !== undefined) {
    if (typeof r.strategy !== 'function' && !['round-robin', 'random', 'least-busy'].includes(r.strategy as string)) {
      throw configError('routing.strategy', r.strategy, "must be 'round-robin', 'random', 'least-busy' or a function (replicas, statement) => replica");
    }
    out.strategy = r.strategy as RoutingStrategy;
  }
  if (r.fallback !== undefined) {
    if (r.fallback !== 'primary' && r.fallback !== 'error') throw configError('routing.fallback', r.fallback, "must be 'primary' or 'error'");
    out.fallback = r.fallback;
  }
  if (r.readOnlyFunctions !== undefined) {
    if (!Array.isArray(r.readOnlyFunctions) || !r.readOnlyFunctions.every((f) => typeof f === 'string' && f.length > 0)) {
      throw configError('routing.readOnlyFunctions', r.readOnlyFunctions, 'must be an array of function names');
    }
    out.readOnlyFunctions = r.readOnlyFunctions as string[];
  }
  if (r.classifierCacheSize !== undefined) {
    const n = r.classifierCacheSize;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw configError('routing.classifierCacheSize', n, 'must be a nonnegative integer');
    out.classifierCacheSize = n;
  }
  if (r.retryMisroutes !== undefined) {
    if (typeof r.retryMisroutes !== 'boolean') throw configError('routing.retryMisroutes', r.retryMisroutes, 'must be a boolean');
    out.retryMisroutes = r.retryMisroutes;
  }
  return out;
}
