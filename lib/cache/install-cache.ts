import type { Queryable } from '../background/background-link';
import type { BackgroundTask, SubsystemFactory } from '../subsystem';
import { normalizeCacheConfig } from './cache-config';
import { CacheInvalidator } from './cache-invalidator';
import { CacheCounters, type CacheStats } from './cache-stats';
import type { CacheStore } from './cache-store';
import { InvalidationListener } from './invalidation-listener';
import { MemoryCacheStore } from './memory-cache-store';
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
 * The cache subsystem: validates `cache`, and when present joins the pipeline with the
 * answer stage (the result cache), an after-commit effect that invalidates, node errors
 * (a failure between lookup and store voids the store), background work (NOTIFY listener,
 * relation catalog, replay polls — on background connections), `stats().cache` and
 * `db.invalidateCache()`.
 *
 * @example
 * // lib/subsystems.ts
 * export const SUBSYSTEMS = [healthSubsystem, consistencySubsystem, catalogSubsystem, cacheSubsystem, …];
 */
export const cacheSubsystem: SubsystemFactory = (ctx) => {
  const cfg = normalizeCacheConfig(ctx.config.raw.cache);
  if (cfg === undefined) {
    return { name: 'cache', stats: () => null, methods: { invalidateCache: async (): Promise<void> => undefined } };
  }
  const config = ctx.config;
  const writerLink = (): Queryable => ctx.links.of(ctx.router.writer());
  // The store keeps its own monotonic clock unless a clock was configured (tests drive TTLs with it).
  const clock = config.raw.clock === undefined ? undefined : ctx.clock;
  const store: CacheStore = cfg.store ?? new MemoryCacheStore({ max: cfg.max, maxBytes: cfg.maxBytes, maxEntryBytes: cfg.maxResultBytes, clock });
  const counters = new CacheCounters();
  const replay = new ReplayTracker((node) => ctx.links.of(node), { writer: () => ctx.router.currentWriter });
  let invalidator: CacheInvalidator | undefined;
  const catalog = new RelationCatalog({
    primary: writerLink,
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
  const cache = new ResultCache({ classifyOptions: () => ctx.classifyOptions(), events: ctx.events }, cfg, store, catalog, replay, counters, closedBecause);
  invalidator = new CacheInvalidator({
    writer: () => ctx.router.writer(),
    link: (node) => ctx.links.of(node),
    classifyOptions: () => ctx.classifyOptions(),
    readOnlyFunctions: config.routing.readOnlyFunctions,
  }, cfg, store, catalog, counters, (e) => cache.emit(e));
  const inv = invalidator;

  if (cfg.invalidation === 'notify') {
    listener = new InvalidationListener({
      channel: cfg.channel,
      settings: async () => listenerSettings(cfg.listenConnection ?? (await ctx.primary.resolver.forBackground())),
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

  const background: BackgroundTask = {
    start() {
      replay.start();
      inv.start();
      catalog.start();
      listener?.start();
    },
    // db.ready(): the relation catalog loaded (or failed: stats() says which).
    ready: () => catalog.load().catch(() => undefined),
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
  return {
    name: 'cache',
    answer: (request) => cache.lookup(request),
    afterCommit: (write) => inv.onWrite(write),
    nodeError: (node) => void cache.failures.set(node, (cache.failures.get(node) ?? 0) + 1),
    // Nodes that join or leave at run time (topology discovery) start from nothing.
    nodesChanged: ({ added, removed }) => {
      for (const node of [...added, ...removed]) {
        replay.forget(node);
        cache.failures.delete(node);
      }
    },
    background,
    stats: (): CacheStats => {
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
    },
    methods: { invalidateCache: (tables?: string[]) => inv.invalidateTables(tables) },
  };
};

async function listenerSettings(connection: unknown): Promise<unknown> {
  const c = typeof connection === 'function' ? await (connection as () => unknown)() : connection;
  // Named, so an operator can tell it in pg_stat_activity (a URL's own application_name wins).
  const named = { application_name: 'split-knex cache listener' };
  return typeof c === 'string' ? { ...named, connectionString: c } : { ...named, ...(c as object) };
}
