import type { ClassifyOptions, SqlClassification } from '../classify';
import { isMisrouteError } from '../knex/pg-errors';
import type { NormalizedConfig } from '../config';
import type { SplitCore } from '../split-core';
import type { SplitKnex } from '../split-knex';
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
 * The catalog subsystem: validates `catalog`, loads the primary's catalog in the
 * background and gives it to the classifier, reloads it on an interval and after DDL, adds
 * `db.refreshCatalog()` and the `catalog` section of `db.stats()`.
 *
 * @example
 * const SUBSYSTEMS: Subsystem[] = [installCatalog];
 */
export function installCatalog(db: SplitKnex, core: SplitCore, config: NormalizedConfig): void {
  const settings = normalizeCatalogConfig(config.raw.catalog, config.replicas.length > 0);
  if (!settings.enabled) {
    Object.assign(db, { refreshCatalog: (): Promise<void> => Promise.resolve() });
    core.statsSections.set('catalog', () => ({ ...OFF, routes: { ...OFF.routes } }));
    return;
  }
  const manager = new CatalogManager(core, settings);
  core.lifecycles.push(manager.refresher);
  core.writeHooks.push((info) => manager.afterWrite(info));
  core.statsSections.set('catalog', () => manager.stats());
  Object.assign(db, { refreshCatalog: (): Promise<void> => manager.refresh() });

  // DDL is seen as it completes on the facade's client, which also hears db.primary's and
  // transactions' queries; the write hook then waits for a reload that includes it.
  db.client.on('query-response', (_response: unknown, obj: { sql?: unknown } | undefined) => manager.noteStatement(obj?.sql));
  db.client.on('query-error', () => manager.refresher.soon());
  core.nodeErrorObservers.push((node, err, phase) => {
    if (phase === 'query' && node.role === 'replica' && isMisrouteError(err)) manager.noteMisroute();
  });

  // Count the routes the catalog decided: wrap this instance's classifier (the router and
  // the transactions call it) so each routed classification is looked at once, cheaply.
  const classifier = core.classifier;
  const classify = classifier.classify.bind(classifier);
  classifier.classify = (sql: string, options?: ClassifyOptions): SqlClassification =>
    options?.catalog === manager.live && options.inTransaction !== true
      ? manager.live.observe(() => classify(sql, options))
      : classify(sql, options);
}
