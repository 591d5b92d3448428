import { SplitKnexError } from '../errors';
import type { BuilderInternals, KnexClient } from './knex-internals';

/** Per-read options of `.cache()`. */
export interface CacheCallOptions {
  /** How long this result may be served, in ms (default: the config's `ttlMs`). */
  ttlMs?: number;
  /**
   * Your own name for this read, used instead of its SQL and bindings in the key (scope,
   * user and database still apply). Reads with the same `key` must return the same thing.
   */
  key?: string;
}

/** What `.cache()` / `.noCache()` left on a builder. @internal */
export type CacheMark = { mode: 'on'; ttlMs: number | undefined; key: string | undefined } | { mode: 'off' };

/** Where the mark lives on a builder. @internal */
export const CACHE_MARK = Symbol('split-knex:cache');
/** Where `.maxStaleness(ms)` leaves its bound on a builder. @internal */
export const STALENESS_MARK = Symbol('split-knex:max-staleness');

declare module 'knex' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Knex {
    interface QueryBuilder<TRecord extends {} = any, TResult = any> {
      /**
       * split-knex: answer this read from the result cache when it may (see docs/caching.md).
       * Only on builders of a splitKnex instance; a no-op when its cache is off.
       */
      cache(options?: CacheCallOptions): this;
      /** split-knex: never answer this read from the cache (for `strategy: 'all'`). */
      noCache(): this;
      /**
       * split-knex: this read may be up to `ms` milliseconds stale: any replica known to be
       * within the bound may take it, else the primary (docs/consistency.md). Replaces the
       * `lag` limits for this read; read-your-writes still applies.
       */
      maxStaleness(ms: number): this;
    }
    interface Raw<TResult = any> {
      /** split-knex: answer this raw read from the result cache when it may. */
      cache(options?: CacheCallOptions): this;
      /** split-knex: never answer this raw read from the cache. */
      noCache(): this;
      /** split-knex: this raw read may be up to `ms` milliseconds stale (see the query builder's). */
      maxStaleness(ms: number): this;
    }
  }
}

type Marked = BuilderInternals & { [CACHE_MARK]?: CacheMark; [STALENESS_MARK]?: number };
type Ctor = new (client: KnexClient) => BuilderInternals;

const READ_METHODS = new Set(['select', 'first', 'pluck']);
const OFF: CacheMark = Object.freeze({ mode: 'off' });
// The PostgreSQL dialect's builder (updateFrom, using, withMaterialized …), as knex's pg client builds it.
const QueryBuilder: Ctor = require('knex/lib/dialects/postgres/query/pg-querybuilder');
const Raw: Ctor = require('knex/lib/raw');

function markFor(options: CacheCallOptions | undefined): CacheMark {
  if (options === undefined) return { mode: 'on', ttlMs: undefined, key: undefined };
  if (options === null || typeof options !== 'object') throw misuse(`.cache() takes { ttlMs?, key? }; got ${typeof options}`);
  const { ttlMs, key } = options;
  if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0)) {
    throw misuse(`.cache({ ttlMs }) must be a positive integer; got ${String(ttlMs)}`);
  }
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) throw misuse('.cache({ key }) must be a non-empty string');
  return { mode: 'on', ttlMs, key };
}

// A read's staleness bound; a bad one is the caller's bug, said at once (not a silent fresh read).
function maxStaleness(this: Marked, ms: number): Marked {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new SplitKnexError('ESPLIT_CONFIG', `split-knex: .maxStaleness(ms) takes an integer number of milliseconds >= 0; got ${String(ms)}`);
  }
  this[STALENESS_MARK] = ms;
  return this;
}

function misuse(message: string): SplitKnexError {
  return new SplitKnexError('ESPLIT_CACHE', `split-knex: ${message}`);
}

// Methods put on each builder a splitKnex client makes, so `.cache()` never appears on the
// builders of other knex instances (no global QueryBuilder.extend). Not a subclass of knex's
// builder: V8 compiles subclassed knex builders far slower (measured 18 µs against 5 µs per
// build and compile of a point SELECT), which would be most of split-knex's overhead.
function cache(this: Marked, options?: CacheCallOptions): Marked {
  this[CACHE_MARK] = markFor(options);
  return this;
}

function noCache(this: Marked): Marked {
  this[CACHE_MARK] = OFF;
  return this;
}

// knex's clone() builds `new this.constructor(client)`: give the clone the methods and the mark.
function cloneWithCacheMethods(this: Marked): Marked {
  const cloned = (QueryBuilder.prototype as unknown as { clone(this: unknown): Marked }).clone.call(this);
  withCacheMethods(cloned, true);
  const mark = this[CACHE_MARK];
  if (mark !== undefined) cloned[CACHE_MARK] = mark;
  const bound = this[STALENESS_MARK];
  if (bound !== undefined) cloned[STALENESS_MARK] = bound;
  return cloned;
}

function withCacheMethods(builder: Marked, cloneable: boolean): Marked {
  const b = builder as Marked & { cache: typeof cache; noCache: typeof noCache; maxStaleness: typeof maxStaleness; clone?: typeof cloneWithCacheMethods };
  b.cache = cache;
  b.noCache = noCache;
  b.maxStaleness = maxStaleness;
  if (cloneable) b.clone = cloneWithCacheMethods;
  return b;
}

/** The query builder of a splitKnex client (what `client.queryBuilder()` returns). @internal */
export function cachingQueryBuilder(client: KnexClient): BuilderInternals {
  return withCacheMethods(new QueryBuilder(client), true);
}

/** The raw builder of a splitKnex client (what `client.raw(sql, bindings)` returns). @internal */
export function cachingRaw(client: KnexClient, args: unknown[]): BuilderInternals {
  const raw = withCacheMethods(new Raw(client), false) as unknown as { set(...a: unknown[]): BuilderInternals };
  return raw.set(...args);
}

/**
 * Fails a query (rather than silently ignoring the request) when a write asks to be cached.
 * Called by the runner before routing. @internal
 */
export function assertCacheable(builder: BuilderInternals): void {
  const mark = (builder as Marked)[CACHE_MARK];
  if (mark?.mode !== 'on') return;
  const method = builder._method ?? 'select';
  if (builder._sequence === undefined && (method === 'raw' || READ_METHODS.has(method))) return;
  throw misuse(`.cache() on a ${method} query: only reads are cached`);
}

/** The `.maxStaleness(ms)` bound of a builder, if any. @internal */
export function stalenessOf(builder: BuilderInternals): number | undefined {
  return (builder as Marked)[STALENESS_MARK];
}

/** The `.cache()` / `.noCache()` mark of a builder, if any. @internal */
export function cacheMarkOf(builder: BuilderInternals): CacheMark | undefined {
  return (builder as Marked)[CACHE_MARK];
}
