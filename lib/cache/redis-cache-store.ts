import { createHash } from 'crypto';
import { debugLogger } from '../debug-log';
import * as v8 from 'v8';
import type { CachedResult, CacheStore, StoreLookup, TagMarks } from './cache-store';
import { toPortable } from './copy-result';
import { formatHexLsn, parseHexLsn } from './lsn';

/** The part of an ioredis client the store uses (`call` / `callBuffer`, `quit`). */
export interface RedisLike {
  call(command: string, ...args: Array<string | Buffer | number>): Promise<unknown>;
  callBuffer(command: string, ...args: Array<string | Buffer | number>): Promise<unknown>;
  quit(): Promise<unknown>;
}

/** Options of a {@link RedisCacheStore}. */
export interface RedisCacheStoreOptions {
  /**
   * An ioredis client (yours: the store never closes it), or a `redis://` URL / ioredis
   * options object (the store opens and, on `destroy()`, closes its own connection).
   */
  redis: RedisLike | string | Record<string, unknown>;
  /** Namespace of every key; used as a Redis Cluster hash tag, so all keys share a slot. Default `split-knex:cache`. */
  prefix?: string;
}

const debug = debugLogger('split-knex:cache');

// Entries carry the generations they were stored under; a get compares them with the
// current ones, so an invalidation is O(tags) and stale entries simply expire.
const GET = `
local out = { redis.call('GET', KEYS[1]) or false }
for i = 2, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'g', 'l')
  out[#out + 1] = v[1] or '0'
  out[#out + 1] = v[2] or ''
end
return out`;
const SET = `
for i = 2, #KEYS do
  local g = redis.call('HGET', KEYS[i], 'g') or '0'
  if g ~= ARGV[i + 1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
// LSNs are fixed-width hex, so string comparison is numeric comparison.
const BUMP = `
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'g', 1)
  local l = redis.call('HGET', KEYS[i], 'l')
  if not l or l < ARGV[1] then redis.call('HSET', KEYS[i], 'l', ARGV[1]) end
end
return 1`;

/**
 * A {@link CacheStore} in Redis (ioredis), shared by every process that uses the same
 * prefix: one process's result serves the others, and an invalidation by any of them is
 * seen by all at once (no `notify` needed for coherence between them). Generations live
 * in Redis and are checked in Lua, atomically with the `SET`, so a read that began before
 * an invalidation anywhere cannot store its result after it.
 *
 * ioredis is an optional peer dependency, loaded only when you pass a URL or options.
 * Results are serialized with `v8.serialize`: `Date`, `Buffer`, `BigInt`, `Map` survive,
 * class instances come back as plain objects (a raw `pg` `Result` as `{ rows, rowCount, fields, … }`).
 *
 * @example
 * import Redis from 'ioredis';
 * const store = new RedisCacheStore({ redis: new Redis(process.env.REDIS_URL), prefix: 'app:cache' });
 * const db = splitKnex({ ...config, cache: { store, ttlMs: 60_000, strategy: 'explicit' } });
 */
export class RedisCacheStore implements CacheStore {
  readonly shared = true;
  private readonly redis: RedisLike;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly shas = new Map<string, string>();

  constructor(options: RedisCacheStoreOptions) {
    const { redis } = options;
    if (typeof redis === 'string' || (typeof redis === 'object' && redis !== null && typeof (redis as RedisLike).callBuffer !== 'function')) {
      // Lazily: the package works without ioredis unless this store is asked to connect.
      const Redis = require('ioredis') as new (arg: unknown) => RedisLike & { on(event: 'error', fn: (err: Error) => void): unknown };
      const client = new Redis(redis);
      // Failures surface as storeErrors in stats (reads then run uncached), not as unhandled events.
      client.on('error', (err) => debug('redis: %s', err.message));
      this.redis = client;
      this.owned = true;
    } else {
      this.redis = redis as RedisLike;
      this.owned = false;
    }
    this.prefix = `{${options.prefix ?? 'split-knex:cache'}}`;
  }

  async get(key: string, tags: readonly string[]): Promise<StoreLookup> {
    const reply = (await this.script(GET, [this.entryKey(key), this.globalKey(), ...tags.map((t) => this.tagKey(t))], [])) as Array<Buffer | null>;
    const gens: number[] = [];
    let lsn = 0n;
    for (let i = 1; i < reply.length; i += 2) {
      gens.push(Number(String(reply[i])));
      const l = String(reply[i + 1] ?? '');
      if (l !== '') { const p = parseHexLsn(l); if (p > lsn) lsn = p; }
    }
    const marks: TagMarks = { gens, lsn };
    const raw = reply[0];
    if (raw === null || raw === undefined || raw.length === 0) return { entry: undefined, marks };
    const stored = v8.deserialize(raw) as { v: unknown; b: number; a: bigint | number; g: number[] };
    const fresh = stored.g.length === gens.length && stored.g.every((g, i) => g === gens[i]);
    return { entry: fresh ? { value: stored.v, bytes: stored.b, asOf: BigInt(stored.a) } : undefined, marks };
  }

  async set(key: string, entry: CachedResult, tags: readonly string[], marks: TagMarks, ttlMs: number): Promise<boolean> {
    const payload = v8.serialize({ v: toPortable(entry.value), b: entry.bytes, a: entry.asOf, g: marks.gens });
    const keys = [this.entryKey(key), this.globalKey(), ...tags.map((t) => this.tagKey(t))];
    const reply = await this.script(SET, keys, [payload, Math.max(1, Math.round(ttlMs)), ...marks.gens.map(String)]);
    return Number(reply) === 1;
  }

  async delete(key: string): Promise<void> {
    await this.redis.call('DEL', this.entryKey(key));
  }

  async clearTags(tags: readonly string[], lsn: bigint): Promise<void> {
    if (tags.length === 0) return;
    await this.script(BUMP, tags.map((t) => this.tagKey(t)), [formatHexLsn(lsn)]);
  }

  async clear(lsn: bigint): Promise<void> {
    await this.script(BUMP, [this.globalKey()], [formatHexLsn(lsn)]);
  }

  async close(): Promise<void> {
    // An already closed connection (Redis gone) has nothing left to release.
    if (this.owned) await this.redis.quit().catch(() => undefined);
  }

  private entryKey(key: string): string {
    return `${this.prefix}:e:${createHash('sha256').update(key).digest('base64url')}`;
  }

  private globalKey(): string {
    return `${this.prefix}:g`;
  }

  private tagKey(tag: string): string {
    return `${this.prefix}:t:${tag}`;
  }

  // EVALSHA, loading the script on the first NOSCRIPT (a restarted Redis forgets scripts).
  private async script(source: string, keys: string[], args: Array<string | Buffer | number>): Promise<unknown> {
    let sha = this.shas.get(source);
    if (sha === undefined) {
      sha = createHash('sha1').update(source).digest('hex');
      this.shas.set(source, sha);
    }
    try {
      return await this.redis.callBuffer('EVALSHA', sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      return this.redis.callBuffer('EVAL', source, keys.length, ...keys, ...args);
    }
  }
}
