import { rejectUnknownKeys, type Exact, type ExactKeys } from '../config-keys';
import { configError } from '../errors';

/**
 * Default interval between two catalog loads.
 *
 * @example
 * normalizeCatalogConfig('auto', true).refreshMs === DEFAULT_CATALOG_REFRESH_MS; // true
 */
export const DEFAULT_CATALOG_REFRESH_MS = 60_000;

/**
 * The `catalog` section of a splitKnex config: whether split-knex reads function volatility
 * and unlogged relations from the primary's system catalog to route more reads to replicas.
 *
 * - `'auto'` (the default when replicas are configured): load in the background after start,
 *   refresh every 60 s and after DDL sent through split-knex.
 * - `false` (the default without replicas): never read the catalog; calls of user functions
 *   go to the primary and unlogged tables are not recognised (a replica refuses them and the
 *   misroute guard retries them on the primary).
 * - an object: `'auto'` with settings.
 *
 * @example
 * splitKnex({ client: 'pg', connection, replicas, catalog: { refreshMs: 300_000 } });
 */
export type CatalogConfig = 'auto' | false | CatalogOptions;

/**
 * The settings of `catalog` when it is an object.
 *
 * @example
 * const options: CatalogOptions = { refreshMs: 0, searchPath: ['app', 'public'] };
 */
export interface CatalogOptions {
  /**
   * Interval between two loads in ms (default 60 000). Raise it when the schema rarely
   * changes behind split-knex's back (deploys can call `db.refreshCatalog()`); `0` turns
   * the interval off (loads then happen at start, after DDL sent through split-knex and
   * on `db.refreshCatalog()` only).
   */
  refreshMs?: number;
  /**
   * The schemas unqualified names are looked up in, in order (exact names as knex's
   * `searchPath` takes them; `'$user'` is the connecting role), when
   * the sessions on the replicas use a different search_path than the primary's pooled
   * connections report. By default the primary's effective path is used, which already
   * includes knex's `searchPath` option and role/database settings.
   */
  searchPath?: string[] | string;
}

/**
 * `catalog` after validation.
 *
 * @example
 * const n: NormalizedCatalogConfig = { enabled: true, refreshMs: 60_000, searchPath: undefined };
 */
export interface NormalizedCatalogConfig {
  enabled: boolean;
  refreshMs: number;
  /** Overrides the path read from the primary; undefined: use the primary's. */
  searchPath: string[] | undefined;
}

const KEYS = ['refreshMs', 'searchPath'] as const;
// Compiles only while KEYS names exactly the keys of CatalogOptions.
type CatalogKeysExact = Exact<ExactKeys<CatalogOptions, typeof KEYS>>;

/**
 * Validates the `catalog` section eagerly and fills in defaults.
 *
 * @example
 * normalizeCatalogConfig(undefined, true);  // { enabled: true, refreshMs: 60000, searchPath: undefined }
 * normalizeCatalogConfig(false, true);      // { enabled: false, ... }
 * normalizeCatalogConfig({ refreshMs: -1 }, true); // throws ESPLIT_CONFIG naming catalog.refreshMs
 */
export function normalizeCatalogConfig(value: unknown, hasReplicas: boolean): NormalizedCatalogConfig {
  const out: NormalizedCatalogConfig = { enabled: hasReplicas, refreshMs: DEFAULT_CATALOG_REFRESH_MS, searchPath: undefined };
  if (value === undefined) return out;
  if (value === false) return { ...out, enabled: false };
  if (value === 'auto') return { ...out, enabled: true };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('catalog', value, "must be 'auto', false or { refreshMs?, searchPath? }");
  }
  const obj = value as Record<string, unknown>;
  rejectUnknownKeys('catalog', obj, KEYS, 'a catalog option');
  out.enabled = true;
  if (obj.refreshMs !== undefined) {
    const ms = obj.refreshMs;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
      throw configError('catalog.refreshMs', ms, 'must be a nonnegative integer of milliseconds (0 turns the interval off)');
    }
    out.refreshMs = ms;
  }
  if (obj.searchPath !== undefined) out.searchPath = normalizeSearchPath(obj.searchPath);
  return out;
}

function normalizeSearchPath(value: unknown): string[] {
  // knex's own `searchPath` takes a string or an array; accept the same shapes.
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.trim().length > 0)) {
    throw configError('catalog.searchPath', value, 'must be a non-empty array of schema names (or a comma-separated string)');
  }
  // Exact schema names, as knex's `searchPath` takes them (knex quotes each one).
  return list.map((s: string) => s.trim());
}
