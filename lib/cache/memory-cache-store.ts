import { LRUCache } from 'lru-cache';
import type { CachedResult, CacheStore, StoreLookup, TagMarks } from './cache-store';
import type { Clock } from '../clock';
import { copyResult } from './copy-result';

/**
 * A clock in milliseconds; inject one to test expiry without sleeping. Only `now()` is read.
 *
 * @deprecated Use `Clock` (the one clock type); kept so public types do not break.
 * @example
 * new MemoryCacheStore({ max: 10, clock: { now: () => t } });
 */
export type CacheClock = Clock;

/** Options of a {@link MemoryCacheStore}. */
export interface MemoryCacheStoreOptions {
  /** Most entries kept; the least recently used go first. */
  max: number;
  /** Bound on the summed estimated size of the entries, in bytes. */
  maxBytes?: number;
  /** Largest single entry accepted, in bytes (default: `maxBytes`, else 1 MiB). */
  maxEntryBytes?: number;
  /** Time source for expiry (default `performance.now()`). */
  clock?: CacheClock;
}

interface Entry {
  result: CachedResult;
  tags: readonly string[];
}

interface TagState {
  gen: number;
  lsn: bigint;
}

/**
 * The default store: an in-process LRU (lru-cache) with a tag index, so an invalidation
 * drops exactly the entries of the written tables, and generation counters that reject a
 * `set` whose marks predate an invalidation. `get` hands out a fresh copy every time.
 *
 * @example
 * const store = new MemoryCacheStore({ max: 1000, maxBytes: 64 * 1024 * 1024 });
 * splitKnex({ ...config, cache: { store, ttlMs: 30_000 } });
 */
export class MemoryCacheStore implements CacheStore {
  readonly shared = false;
  private readonly lru: LRUCache<string, Entry>;
  private readonly byTag = new Map<string, Set<string>>();
  private readonly tagState = new Map<string, TagState>();
  private readonly global: TagState = { gen: 0, lsn: 0n };

  constructor(options: MemoryCacheStoreOptions) {
    const clock = options.clock;
    // lru-cache treats a start time of 0 as "no TTL": count from 1 at construction instead.
    const origin = clock === undefined ? 0 : clock.now() - 1;
    this.lru = new LRUCache<string, Entry>({
      max: options.max,
      maxSize: options.maxBytes,
      maxEntrySize: options.maxEntryBytes ?? options.maxBytes ?? 1024 * 1024,
      // Resolution 0: every expiry check asks the clock, so an injected clock is obeyed at once.
      ttlResolution: 0,
      perf: clock === undefined ? undefined : { now: () => clock.now() - origin },
      dispose: (entry, key) => this.unindex(key, entry.tags),
    });
  }

  get(key: string, tags: readonly string[]): StoreLookup {
    const marks = this.marksOf(tags);
    const found = this.lru.get(key);
    if (found === undefined) return { entry: undefined, marks };
    const { value } = copyResult(found.result.value);
    return { entry: { value, bytes: found.result.bytes, asOf: found.result.asOf }, marks };
  }

  set(key: string, entry: CachedResult, tags: readonly string[], marks: TagMarks, ttlMs: number): boolean {
    if (!this.current(tags, marks)) return false;
    const size = Math.max(1, Math.ceil(entry.bytes));
    if (size > this.lru.maxEntrySize) return false;
    this.lru.set(key, { result: entry, tags }, { ttl: ttlMs, size });
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (keys === undefined) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  clearTags(tags: readonly string[], lsn: bigint): void {
    for (const tag of tags) {
      const state = this.stateOf(tag);
      state.gen++;
      if (lsn > state.lsn) state.lsn = lsn;
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      for (const key of [...keys]) this.lru.delete(key);
      this.byTag.delete(tag);
    }
  }

  clear(lsn: bigint): void {
    this.global.gen++;
    if (lsn > this.global.lsn) this.global.lsn = lsn;
    this.lru.clear();
    this.byTag.clear();
  }

  stats(): { entries: number; bytes: number } {
    // Expired entries still count until something touches them: purge first for honest numbers.
    this.lru.purgeStale();
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  private marksOf(tags: readonly string[]): TagMarks {
    const gens = new Array<number>(tags.length + 1);
    gens[0] = this.global.gen;
    let lsn = this.global.lsn;
    for (let i = 0; i < tags.length; i++) {
      const state = this.tagState.get(tags[i]!);
      gens[i + 1] = state?.gen ?? 0;
      if (state !== undefined && state.lsn > lsn) lsn = state.lsn;
    }
    return { gens, lsn };
  }

  private current(tags: readonly string[], marks: TagMarks): boolean {
    if (marks.gens.length !== tags.length + 1 || marks.gens[0] !== this.global.gen) return false;
    for (let i = 0; i < tags.length; i++) {
      if ((this.tagState.get(tags[i]!)?.gen ?? 0) !== marks.gens[i + 1]) return false;
    }
    return true;
  }

  private stateOf(tag: string): TagState {
    let state = this.tagState.get(tag);
    if (state === undefined) this.tagState.set(tag, (state = { gen: 0, lsn: 0n }));
    return state;
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }
}
