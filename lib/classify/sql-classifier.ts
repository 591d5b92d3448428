import { debugLogger } from '../debug-log';
import { LRUCache } from 'lru-cache';
import { analyzeSql } from './analyze-sql';
import { FunctionNameSet } from './function-name-set';
import { resolveClassification } from './resolve-classification';
import type { ClassifyOptions, FunctionCatalog, SqlClassification } from './sql-classification';

const debug = debugLogger('split-knex:classify');

// Texts longer than this are classified every time: memoizing a thousand
// megabyte-long batch INSERTs would hold a gigabyte for nothing.
const MAX_MEMOIZED_SQL_LENGTH = 16 * 1024;

// Option sets remembered per text; a catalog whose version keeps changing
// would otherwise grow one entry without bound.
const MAX_VARIANTS_PER_TEXT = 16;

// Results for one SQL text: with default options (the common case, looked up
// without building a key), and per other option set.
interface MemoEntry {
  plain: SqlClassification | undefined;
  variants: Map<string, SqlClassification> | undefined;
}

/**
 * Options of a {@link SqlClassifier}.
 *
 * @example
 * const options: SqlClassifierOptions = { cacheSize: 5000, readOnlyFunctions: ['app.slugify'] };
 */
export interface SqlClassifierOptions {
  /**
   * How many classifications to memoize, per SQL text (and per option set). Raise
   * it when the application issues more distinct query shapes than that; 0 turns
   * memoization off (every call lexes the text again). Default 1000.
   */
  cacheSize?: number;
  /**
   * User functions known to be read-only, for every call of this classifier; a
   * call's own `readOnlyFunctions` add to these. See {@link ClassifyOptions}.
   */
  readOnlyFunctions?: Iterable<string>;
}

/**
 * Classifies SQL text as safe for a replica or needing the primary, memoizing
 * results per text in a bounded LRU. Each text remembers its result per option
 * set (`inTransaction`, the call's `readOnlyFunctions`, the catalog and its
 * `version`); a catalog without a numeric `version` turns memoization off for
 * that call, since its answers may change at any time.
 *
 * `classify` never throws: invalid per-call options and any internal failure
 * yield `'primary'` with a reason saying so.
 *
 * @example
 * const classifier = new SqlClassifier({ cacheSize: 2000, readOnlyFunctions: ['app.slugify'] });
 * classifier.classify('select app.slugify(title) from posts').target; // 'replica'
 * classifier.classify('select nextval($1)').reason;                    // 'volatile function nextval'
 */
export class SqlClassifier {
  readonly #cache: LRUCache<string, MemoEntry> | undefined;
  readonly #readOnlyFunctions: FunctionNameSet;

  /** Throws a TypeError when `cacheSize` or `readOnlyFunctions` is invalid. */
  constructor(options: SqlClassifierOptions = {}) {
    const { cacheSize = 1000, readOnlyFunctions } = options;
    if (typeof cacheSize !== 'number' || !Number.isSafeInteger(cacheSize) || cacheSize < 0) {
      throw new TypeError(`SqlClassifier cacheSize option must be a nonnegative integer, got ${String(cacheSize)}`);
    }
    this.#cache = cacheSize > 0 ? new LRUCache<string, MemoEntry>({ max: cacheSize }) : undefined;
    this.#readOnlyFunctions =
      readOnlyFunctions === undefined
        ? FunctionNameSet.empty
        : FunctionNameSet.from(readOnlyFunctions, 'SqlClassifier readOnlyFunctions option');
  }

  /** Number of SQL texts with memoized classifications (never more than `cacheSize`). */
  get memoized(): number {
    return this.#cache?.size ?? 0;
  }

  /** Forgets every memoized classification. */
  clear(): void {
    this.#cache?.clear();
  }

  /**
   * Classifies `sql`. Never throws.
   *
   * @example
   * new SqlClassifier().classify('set local lock_timeout = 100', { inTransaction: true }).target; // 'replica'
   */
  classify(sql: string, options: ClassifyOptions = {}): SqlClassification {
    try {
      if (typeof sql !== 'string') return primary(`SQL text must be a string, got ${typeof sql}`);
      const { catalog, inTransaction = false } = options ?? {};
      let perCall = FunctionNameSet.empty;
      if (options?.readOnlyFunctions !== undefined) {
        try {
          perCall = FunctionNameSet.from(options.readOnlyFunctions, 'readOnlyFunctions option');
        } catch (error) {
          return primary(error instanceof Error ? error.message : 'invalid readOnlyFunctions option');
        }
      }

      const variant = this.#variantKey(sql, inTransaction === true, catalog, perCall);
      const entry = variant === undefined ? undefined : this.#cache?.get(sql);
      if (entry !== undefined && variant !== undefined) {
        const hit = variant === '' ? entry.plain : entry.variants?.get(variant);
        if (hit !== undefined) return hit;
      }

      const result = freeze(
        resolveClassification(analyzeSql(sql), {
          readOnlyFunctions: this.#readOnlyFunctions,
          extraReadOnlyFunctions: perCall,
          catalog,
          inTransaction: inTransaction === true,
        }),
      );
      if (debug.enabled) debug('%s -> %s (%s)', preview(sql), result.target, result.reason);
      if (variant !== undefined) this.#remember(sql, entry, variant, result);
      return result;
    } catch (error) {
      // A bug here must not take a query down: the primary is always correct.
      const message = error instanceof Error ? error.message : String(error);
      if (debug.enabled) debug('classification failed for %s: %s', preview(String(sql)), message);
      return primary(`classification failed: ${message}`);
    }
  }

  /**
   * Which memo slot of a text the options select: '' for default options, a
   * key for others, undefined when the result must not be memoized (no cache,
   * a text too long, a catalog without a numeric version).
   */
  #variantKey(
    sql: string,
    inTransaction: boolean,
    catalog: FunctionCatalog | undefined,
    perCall: FunctionNameSet,
  ): string | undefined {
    if (this.#cache === undefined || sql.length > MAX_MEMOIZED_SQL_LENGTH) return undefined;
    let key = inTransaction ? 't' : '';
    if (catalog !== undefined) {
      const version = catalog.version;
      if (typeof version !== 'number' || !Number.isFinite(version)) return undefined;
      key += `c${catalogId(catalog)}v${version}`;
    }
    if (perCall.size > 0) key += `r${perCall.key()}`;
    return key;
  }

  #remember(sql: string, found: MemoEntry | undefined, variant: string, result: SqlClassification): void {
    let entry = found;
    if (entry === undefined) {
      entry = { plain: undefined, variants: undefined };
      this.#cache?.set(sql, entry);
    }
    if (variant === '') {
      entry.plain = result;
      return;
    }
    entry.variants ??= new Map();
    if (entry.variants.size >= MAX_VARIANTS_PER_TEXT) entry.variants.clear();
    entry.variants.set(variant, result);
  }
}

// Distinct catalog objects get distinct ids, so two catalogs at the same version
// never share memo entries.
const catalogIds = new WeakMap<object, number>();
let nextCatalogId = 1;

function catalogId(catalog: FunctionCatalog): number {
  let id = catalogIds.get(catalog);
  if (id === undefined) {
    id = nextCatalogId++;
    catalogIds.set(catalog, id);
  }
  return id;
}

function primary(reason: string): SqlClassification {
  return freeze({ target: 'primary', reason, tables: [] });
}

function freeze(result: SqlClassification): SqlClassification {
  Object.freeze(result.tables);
  return Object.freeze(result);
}

function preview(sql: string): string {
  return sql.length > 200 ? `${sql.slice(0, 200)}...` : sql;
}
