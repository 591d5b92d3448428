import { isMisrouteError } from '../knex/pg-errors';
import type { SubsystemFactory } from '../subsystem';
import { normalizeCatalogConfig } from './catalog-config';
import { CatalogManager, type CatalogStats } from './catalog-manager';

declare module '../split-knex' {
  interface SplitKnex<TRecord extends {} = any, TResult = any[]> {
    /**
     * Reloads the catalog (function volatility, unlogged relations) from the primary now;
     * resolves once the classifier uses the new answers, rejects with the database's error.
     * For deploy scripts that changed the schema behind split-knex's back. A no-op with
     * `catalog: false`.
     *
     * @example
     * await runMigrationsWithPsql();
     * await db.refreshCatalog();
     */
    refreshCatalog(): Promise<void>;
  }
}

const OFF: CatalogStats = {
  enabled: false, state: 'off', version: 0, ageMs: undefined, loadMs: undefined, loads: 0, failures: 0,
  consecutiveFailures: 0, lastError: undefined, functions: 0, unloggedRelations: 0, searchPath: [], routes: { replica: 0, primary: 0 },
};

/**
 * The catalog subsystem: validates `catalog`; loads the primary's catalog on the writer's
 * background connection and gives it to the classifier (classify options), reloads it on an
 * interval and after DDL (an after-commit effect on the committing connection, so the
 * caller's next statement is routed by the new answers), counts the routes it decided,
 * adds `db.refreshCatalog()` and `stats().catalog`.
 *
 * @example
 * // lib/subsystems.ts
 * export const SUBSYSTEMS = [healthSubsystem, consistencySubsystem, catalogSubsystem, …];
 */
export const catalogSubsystem: SubsystemFactory = (ctx) => {
  const settings = normalizeCatalogConfig(ctx.config.raw.catalog, ctx.config.replicas.length > 0);
  if (!settings.enabled) {
    return {
      name: 'catalog',
      stats: () => ({ ...OFF, routes: { ...OFF.routes } }),
      methods: { refreshCatalog: (): Promise<void> => Promise.resolve() },
    };
  }
  const manager = new CatalogManager({ writer: () => ctx.router.writer(), link: (node) => ctx.links.of(node) }, settings);
  return {
    name: 'catalog',
    classifyOptions: () => manager.classifyOptions(),
    // Count the routes the catalog decided: each routed classification is looked at once, cheaply.
    observeClassification: (classify) => (manager.active ? manager.live.observe(classify) : classify()),
    // The first statement done lets the first load begin; DDL marks the catalog changed.
    // Only a write can be DDL (the classifier never lets DDL read): reads skip the check.
    statementDone: (sql, _node, access) => manager.noteStatement(access === 'write' ? sql : undefined),
    nodeError: (node, err, phase) => {
      if (phase === 'query' && node.role === 'replica' && isMisrouteError(err)) manager.noteMisroute();
      if (phase === 'query') manager.refresher.soon();
    },
    afterCommit: (write) => manager.afterWrite(write),
    background: { start: () => manager.refresher.start(), ready: () => manager.ready(), stop: () => manager.refresher.stop() },
    stats: () => manager.stats(),
    methods: { refreshCatalog: (): Promise<void> => manager.refresh() },
  };
};
