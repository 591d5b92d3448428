import { expect } from 'chai';
import { normalizeCacheConfig } from '../../lib/cache/cache-config';
import { MemoryCacheStore } from '../../lib/cache/memory-cache-store';
import { SplitKnexError } from '../../lib/errors';

describe('cache config', () => {
  const fails = (value: unknown, key: string): void => {
    let err: unknown;
    try {
      normalizeCacheConfig(value);
    } catch (e) {
      err = e;
    }
    expect(err, `expected ${key} to be rejected`).to.be.instanceOf(SplitKnexError);
    expect((err as SplitKnexError).code).to.equal('ESPLIT_CONFIG');
    expect((err as Error).message).to.contain(`"${key}"`);
  };

  it('is off without a cache section', () => {
    expect(normalizeCacheConfig(undefined)).to.equal(undefined);
    expect(normalizeCacheConfig(false)).to.equal(undefined);
  });

  it('fills in conservative defaults', () => {
    const c = normalizeCacheConfig({ max: 10, ttlMs: 1000 })!;
    expect(c).to.deep.include({
      max: 10, ttlMs: 1000, strategy: 'explicit', invalidation: 'local', channel: 'split_knex_cache',
      maxResultBytes: 1024 * 1024, lagGuard: true, trustTriggers: false, schemaRefreshMs: 60_000, maxBytes: undefined,
    });
  });

  it('caps the default maxResultBytes at maxBytes', () => {
    expect(normalizeCacheConfig({ max: 10, ttlMs: 1000, maxBytes: 4096 })!.maxResultBytes).to.equal(4096);
  });

  it('rejects bad values, naming the key', () => {
    fails('yes', 'cache');
    fails({ ttlMs: 1000 }, 'cache.max');
    fails({ max: 0, ttlMs: 1000 }, 'cache.max');
    fails({ max: 1.5, ttlMs: 1000 }, 'cache.max');
    fails({ max: 10 }, 'cache.ttlMs');
    fails({ max: 10, ttlMs: -1 }, 'cache.ttlMs');
    fails({ max: 10, ttlMs: 1, strategy: 'some' }, 'cache.strategy');
    fails({ max: 10, ttlMs: 1, invalidation: 'redis' }, 'cache.invalidation');
    fails({ max: 10, ttlMs: 1, channel: 'bad channel' }, 'cache.channel');
    fails({ max: 10, ttlMs: 1, scope: 42 }, 'cache.scope');
    fails({ max: 10, ttlMs: 1, store: { get() {} } }, 'cache.store');
    fails({ max: 10, ttlMs: 1, maxBytes: 100, maxResultBytes: 200 }, 'cache.maxResultBytes');
    fails({ max: 10, ttlMs: 1, lagGuard: 'no' }, 'cache.lagGuard');
    fails({ max: 10, ttlMs: 1, schemaRefreshMs: -5 }, 'cache.schemaRefreshMs');
    fails({ max: 10, ttlMs: 1, ttl: 5 }, 'cache.ttl');
    fails({ max: 10, ttlMs: 1, listenConnection: 5 }, 'cache.listenConnection');
  });

  it('needs no max when a store is given', () => {
    const store = new MemoryCacheStore({ max: 5 });
    expect(normalizeCacheConfig({ ttlMs: 1000, store })!.store).to.equal(store);
  });

  it('takes a scope function and notify invalidation', () => {
    const scope = (): string => 'tenant-1';
    const c = normalizeCacheConfig({ max: 1, ttlMs: 1, scope, invalidation: 'notify', channel: 'app_cache', strategy: 'all' })!;
    expect(c.scope).to.equal(scope);
    expect(c).to.deep.include({ invalidation: 'notify', channel: 'app_cache', strategy: 'all' });
  });
});
