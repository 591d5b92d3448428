import { SplitKnexError } from '../errors';
import { nodeOfConnection, type Node } from '../route/node';
import { runCompiled, type BuilderInternals, type CompiledQuery, type KnexClient, type RunnerInternals } from './knex-internals';

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
    }
    interface Raw<TResult = any> {
      /** split-knex: answer this raw read from the result cache when it may. */
      cache(options?: CacheCallOptions): this;
      /** split-knex: never answer this raw read from the cache. */
      noCache(): this;
    }
  }
}

type Marked = BuilderInternals & { [CACHE_MARK]?: CacheMark };
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

function misuse(message: string): SplitKnexError {
  return new SplitKnexError('ESPLIT_CACHE', `split-knex: ${message}`);
}

// A subclass only the clients of splitKnex instances build, so `.cache()` never appears on
// the builders of other knex instances (no global QueryBuilder.extend). knex's own clone()
// builds `new this.constructor(client)`, so clones keep the methods; the override keeps the mark.
class CachingQueryBuilder extends QueryBuilder {
  cache(options?: CacheCallOptions): this {
    (this as Marked)[CACHE_MARK] = markFor(options);
    return this;
  }

  noCache(): this {
    (this as Marked)[CACHE_MARK] = OFF;
    return this;
  }

  clone(): BuilderInternals {
    const cloned = (QueryBuilder.prototype as unknown as { clone(this: unknown): Marked }).clone.call(this);
    const mark = (this as Marked)[CACHE_MARK];
    if (mark !== undefined) cloned[CACHE_MARK] = mark;
    return cloned;
  }

  // Fails the query (not silently ignores the request) when a write asks to be cached.
  override toSQL(...args: unknown[]): CompiledQuery | CompiledQuery[] {
    const mark = (this as Marked)[CACHE_MARK];
    const method = (this as Marked)._method ?? 'select';
    if (mark?.mode === 'on' && !READ_METHODS.has(method)) throw misuse(`.cache() on a ${method} query: only reads are cached`);
    return (QueryBuilder.prototype.toSQL as (...a: unknown[]) => CompiledQuery | CompiledQuery[]).apply(this, args);
  }
}

class CachingRaw extends Raw {
  cache(options?: CacheCallOptions): this {
    (this as Marked)[CACHE_MARK] = markFor(options);
    return this;
  }

  noCache(): this {
    (this as Marked)[CACHE_MARK] = OFF;
    return this;
  }
}

/** The query builder of a splitKnex client (what `client.queryBuilder()` returns). @internal */
export function cachingQueryBuilder(client: KnexClient): BuilderInternals {
  return new CachingQueryBuilder(client);
}

/** The raw builder of a splitKnex client (what `client.raw(sql, bindings)` returns). @internal */
export function cachingRaw(client: KnexClient, args: unknown[]): BuilderInternals {
  const raw = new CachingRaw(client) as unknown as { set(...a: unknown[]): BuilderInternals };
  return raw.set(...args);
}

/** The `.cache()` / `.noCache()` mark of a builder, if any. @internal */
export function cacheMarkOf(builder: BuilderInternals): CacheMark | undefined {
  return (builder as Marked)[CACHE_MARK];
}

/**
 * Runs a read through the routing runner without the cache and tells which node answered:
 * used by stores that answer asynchronously (Redis), whose miss is only known after the
 * runner's synchronous cache lookup. It goes through `ensureConnection` with its own
 * callback, so knex's `start` event is not fired again; like a stream, it is not retried.
 *
 * @internal
 */
export async function runUncached(builder: BuilderInternals): Promise<{ result: unknown; node: Node | undefined }> {
  const runner = builder.client.runner(builder) as RunnerInternals;
  let node: Node | undefined;
  const result = await runner.ensureConnection((r) => {
    node = nodeOfConnection(r.connection);
    return runCompiled(r, r.builder.toSQL());
  });
  return { result, node };
}
