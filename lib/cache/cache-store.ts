/**
 * What a store knows about a set of tags at one moment: their generation counters (bumped
 * by every invalidation) and the WAL position a replica must have replayed for a result
 * read from it to be as new as the last invalidating write.
 *
 * @example
 * const marks: TagMarks = { gens: [3, 0, 7], lsn: 0x16b3748n }; // global generation, then one per tag
 */
export interface TagMarks {
  /** The global generation (bumped by `clear`) first, then one per tag, in the order asked. */
  readonly gens: readonly number[];
  /** Highest WAL position of an invalidation of these tags (or of everything); 0 when none. */
  readonly lsn: bigint;
}

/**
 * A stored result: the cache's private copy of it, its estimated size, and the replay
 * position of the replica it came from (a lower bound).
 *
 * @example
 * const entry: CachedResult = { value: [{ id: 1 }], bytes: 40, asOf: 0x16b3748n };
 */
export interface CachedResult {
  value: unknown;
  bytes: number;
  asOf: bigint;
}

/** What {@link CacheStore.get} answers: the entry, if any, and the tags' marks. */
export interface StoreLookup {
  /** A copy the caller owns; `undefined` on a miss. */
  entry: CachedResult | undefined;
  marks: TagMarks;
}

/**
 * Where cached results live. The cache calls `get` when a read starts (and keeps the
 * marks), `set` when it ends, and `clearTags` / `clear` after writes commit. A store must
 * refuse a `set` whose marks are no longer current: that is what stops a read that began
 * before an invalidation from storing its (stale) result after it.
 *
 * Methods may return promises (a shared store such as {@link RedisCacheStore}); the
 * in-memory {@link MemoryCacheStore} answers synchronously.
 *
 * @example
 * const { entry, marks } = await store.get(key, ['public.users']);
 * if (entry === undefined) {
 *   const rows = await runQuery();
 *   await store.set(key, { value: copy(rows), bytes: 100, asOf: 0n }, ['public.users'], marks, 30_000);
 * }
 */
export interface CacheStore {
  /** True when several processes share the store: invalidations reach them through it. */
  readonly shared?: boolean;
  /** The entry under `key` (a copy the caller may change) and the current marks of `tags`. */
  get(key: string, tags: readonly string[]): StoreLookup | Promise<StoreLookup>;
  /** Stores `entry` for `ttlMs` unless `marks` are stale; answers whether it stored. Takes ownership of `entry.value`. */
  set(key: string, entry: CachedResult, tags: readonly string[], marks: TagMarks, ttlMs: number): boolean | Promise<boolean>;
  delete(key: string): void | Promise<void>;
  /** Drops every entry tagged with one of `tags`, bumps their generations, and raises their replay requirement to `lsn`. */
  clearTags(tags: readonly string[], lsn: bigint): void | Promise<void>;
  /** Drops every entry, bumps the global generation, and raises every replay requirement to `lsn`. */
  clear(lsn: bigint): void | Promise<void>;
  /** Entries and estimated bytes held, when the store can tell cheaply. */
  stats?(): { entries: number; bytes: number };
  /** Releases connections; called by `destroy()` for stores the cache built itself. */
  close?(): void | Promise<void>;
}
