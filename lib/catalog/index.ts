/**
 * Catalog-aware routing: function volatility and unlogged relations read from the
 * primary's system catalog, so calls of STABLE/IMMUTABLE functions may run on replicas and
 * reads of unlogged tables never go there.
 *
 * @example
 * const db = splitKnex({ client: 'pg', connection, replicas, catalog: { refreshMs: 60_000 } });
 * await db.refreshCatalog();
 * db.stats().catalog; // { state: 'ready', functions: 12, unloggedRelations: 1, ... }
 */
export { catalogSubsystem } from './install-catalog';
export { normalizeCatalogConfig, DEFAULT_CATALOG_REFRESH_MS, type CatalogConfig, type CatalogOptions, type NormalizedCatalogConfig } from './catalog-config';
export { CatalogManager, type CatalogStats, type CatalogReader } from './catalog-manager';
export { CatalogSnapshot } from './catalog-snapshot';
export { LiveCatalog, type CatalogRouteCounts } from './live-catalog';
export { CatalogRefresher, realTimers, type CatalogTimers, type CatalogRefresherOptions } from './catalog-refresher';
export { isCatalogDdl } from './catalog-ddl';
export { CATALOG_SQL, SEARCH_PATH_SQL, FUNCTIONS_SQL, UNLOGGED_RELATIONS_SQL, readCatalog, type CatalogRows, type FunctionRow, type RelationRow } from './catalog-queries';
