import type { NormalizedConfig } from '../config';
import { configError } from '../errors';
import type { Lifecycle, SplitCore } from '../split-core';
import type { SplitKnex } from '../split-knex';
import { normalizeCacheConfig } from './cache-config';
import { CacheInvalidator } from './cache-invalidator';
import { CacheCounters, type CacheStats } from './cache-stats';
import type { CacheStore } from './cache-store';
import { InvalidationListener } from './invalidation-listener';
import { MemoryCacheStore, type CacheClock } from './memory-cache-store';
import { RelationCatalog } from './relation-catalog';
import { ReplayTracker } from './replay-tracker';
import { ResultCache, type CacheEvent } from './result-cache';

declare module '../split-knex' {
  interface SplitKnex<TRecord extends {} = any, TResult = any[]> {
    /**
     * Invalidates what a write to `tables` would (every entry when omitted), here and, with
     * `invalidation: 'notify'`, in every listening instance. For writes split-knex cannot see
     * (another application, `psql`). Resolves at once when the cache is off.
     */
    invalidateCache(tables?: string[]): Promise<void>;
    on(event: 'cache', listener: (event: CacheEvent) => void): this;
  }
}

/**
 * The cache subsystem: validates `cache`, and when present installs the runner's result
 * cache hook, the write hook that invalidates after commit, the NOTIFY listener, the
 * relation catalog, the `cache` stats section and `db.invalidateCache()`.
 *
 * @example
 * // lib/subsystems.ts
 * const SUBSYSTEMS: Subsystem[] = [installCache];
 */
export function installCache(db: SplitKnex, core: SplitCore, config: NormalizedConfig): void {
  const cfg = normalizeCacheConfig(config.raw.cache);
  if (cfg === undefined) {
    Object.assign(db, { invalidateCache: async (): Promise<void> => undefined });
    return;
  }
  const clock = clockOf(config.raw.clock);
  const store: CacheStore = cfg.store ?? new MemoryCacheStore({ max: cfg.max, maxBytes: cfg.maxBytes, maxEntryBytes: cfg.maxResultBytes, clock });
  const counters = new CacheCounters();
  const replay = new ReplayTracker();
  let invalidator: CacheInvalidator | undefined;
  const catalog = new RelationCatalog({
    primary: () => core.router.writer(),
    refreshMs: cfg.schemaRefreshMs,
    onChange: (lsn) => void invalidator?.apply(undefined, lsn, false, 'local'),
  });
  let listener: InvalidationListener | undefined;
  let listening = false;
  const closedBecause = (): string | undefined => {
    if (listener !== undefined && store.shared !== true && !listening) return 'NOTIFY listener not connected';
    if (invalidator !== undefined && invalidator.pending > 0) return 'an invalidation is still being published';
    return undefined;
  };
  const cache = new ResultCache(core, cfg, store, catalog, replay, counters, closedBecause);
  invalidator = new CacheInvalidator(core, cfg, store, catalog, counters, (e) => cache.emit(e));
  const inv = invalidator;

  if (cfg.invalidation === 'notify') {
    listener = new InvalidationListener({
      channel: cfg.channel,
      settings: () => listenerSettings(cfg.listenConnection ?? config.primary.connection),
      onMessage: (payload) => inv.onRemote(payload),
      // Notifications may have been missed while down: clear on both edges, and require
      // replicas to have replayed everything up to the moment LISTEN took effect.
      onDown: () => {
        listening = false;
        if (store.shared !== true) void inv.apply(undefined, inv.lastLsn, false, undefined);
      },
      onUp: (lsn) => {
        if (lsn > inv.lastLsn) inv.lastLsn = lsn;
        const done = store.shared === true ? undefined : inv.apply(undefined, lsn, false, undefined);
        void Promise.resolve(done).then(() => {
          listening = true;
        });
      },
    });
  }

  core.resultCache = cache;
  core.writeHooks.push((info) => inv.onWrite(info));
  core.nodeErrorObservers.push((node) => cache.failures.set(node, (cache.failures.get(node) ?? 0) + 1));
  db.client.on('query', (obj: unknown) => inv.noteQuery(obj as Parameters<CacheInvalidator['noteQuery']>[0]));
  const lifecycle: Lifecycle = {
    start() {
      replay.start();
      inv.start();
      catalog.start();
      listener?.start();
    },
    async stop() {
      replay.stop();
      inv.stop();
      catalog.stop();
      listening = false;
      await listener?.stop();
      // Writes by others while destroyed are unknown: start afresh after initialize().
      if (store.shared !== true) await inv.apply(undefined, inv.lastLsn, false, undefined);
    },
  };
  core.lifecycles.push(lifecycle);
  core.statsSections.set('cache', (): CacheStats => {
    const held = store.stats?.();
    return {
      hits: counters.hits, misses: counters.misses, stores: counters.stores, skipped: counters.skipped,
      entries: held?.entries ?? null, bytes: held?.bytes ?? null,
      invalidations: { local: counters.local, remote: counters.remote, clears: counters.clears },
      staleRejections: counters.staleRejections, lagRejections: counters.lagRejections,
      retryRejections: counters.retryRejections, tooLarge: counters.tooLarge, replayPolls: replay.polls, storeErrors: counters.storeErrors,
      listener: listener === undefined ? null : { connected: listening, reconnects: listener.reconnects },
      catalog: { relations: catalog.graph?.size ?? 0, loads: catalog.loads, ready: catalog.graph !== undefined },
    };
  });
  Object.assign(db, { invalidateCache: (tables?: string[]) => inv.invalidateTables(tables) });
}

function clockOf(clock: unknown): CacheClock | undefined {
  if (clock === undefined) return undefined;
  if (clock === null || typeof clock !== 'object' || typeof (clock as CacheClock).now !== 'function') {
    throw configError('clock', clock, 'must be an object with a now() method returning milliseconds');
  }
  return clock as CacheClock;
}

async function listenerSettings(connection: unknown): Promise<unknown> {
  const c = typeof connection === 'function' ? await (connection as () => unknown)() : connection;
  // Named, so an operator can tell it in pg_stat_activity (a URL's own application_name wins).
  const named = { application_name: 'split-knex cache listener' };
  return typeof c === 'string' ? { ...named, connectionString: c } : { ...named, ...(c as object) };
}
