/**
 * The replica result cache: configuration, stores and events.
 *
 * @example
 * import { MemoryCacheStore, RedisCacheStore } from 'split-knex';
 */
export { cacheSubsystem } from './install-cache';
export { normalizeCacheConfig, type CacheConfig, type CacheStrategy, type CacheInvalidation } from './cache-config';
export type { CacheStore, CachedResult, StoreLookup, TagMarks } from './cache-store';
export { MemoryCacheStore, type MemoryCacheStoreOptions, type CacheClock } from './memory-cache-store';
export { RedisCacheStore, type RedisCacheStoreOptions, type RedisLike } from './redis-cache-store';
export type { CacheEvent } from './result-cache';
export type { CacheStats } from './cache-stats';
