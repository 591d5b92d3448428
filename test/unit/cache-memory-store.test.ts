import { expect } from 'chai';
import { MemoryCacheStore } from '../../lib/cache/memory-cache-store';

describe('cache memory store', () => {
  const entry = (value: unknown, bytes = 10) => ({ value, bytes, asOf: 0n });

  it('stores and hands out a fresh copy each time', () => {
    const store = new MemoryCacheStore({ max: 10 });
    const { marks } = store.get('k', ['public.t']);
    expect(store.set('k', entry([{ id: 1 }]), ['public.t'], marks, 1000)).to.equal(true);
    const a = store.get('k', ['public.t']).entry!.value as Array<{ id: number }>;
    a[0]!.id = 99;
    const b = store.get('k', ['public.t']).entry!.value as Array<{ id: number }>;
    expect(b).to.deep.equal([{ id: 1 }]);
    expect(a).to.not.equal(b);
  });

  it('drops exactly the entries of invalidated tags', () => {
    const store = new MemoryCacheStore({ max: 10 });
    const m1 = store.get('a', ['public.t']).marks;
    const m2 = store.get('b', ['public.u']).marks;
    const m3 = store.get('c', ['public.t', 'public.u']).marks;
    store.set('a', entry(1), ['public.t'], m1, 1000);
    store.set('b', entry(2), ['public.u'], m2, 1000);
    store.set('c', entry(3), ['public.t', 'public.u'], m3, 1000);
    store.clearTags(['public.t'], 0n);
    expect(store.get('a', ['public.t']).entry).to.equal(undefined);
    expect(store.get('b', ['public.u']).entry?.value).to.equal(2);
    expect(store.get('c', ['public.t', 'public.u']).entry).to.equal(undefined);
    expect(store.stats().entries).to.equal(1);
  });

  it('rejects a set whose marks predate an invalidation of one of its tags (stale put)', () => {
    const store = new MemoryCacheStore({ max: 10 });
    const before = store.get('k', ['public.t', 'public.u']).marks;
    store.clearTags(['public.u'], 100n);
    expect(store.set('k', entry('old'), ['public.t', 'public.u'], before, 1000)).to.equal(false);
    const after = store.get('k', ['public.t', 'public.u']).marks;
    expect(after.lsn).to.equal(100n);
    expect(store.set('k', entry('new'), ['public.t', 'public.u'], after, 1000)).to.equal(true);
  });

  it('rejects a set whose marks predate a clear, and raises every replay requirement', () => {
    const store = new MemoryCacheStore({ max: 10 });
    const before = store.get('k', []).marks;
    store.clearTags(['public.t'], 50n);
    store.clear(70n);
    expect(store.set('k', entry(1), [], before, 1000)).to.equal(false);
    expect(store.get('k', ['public.t']).marks.lsn).to.equal(70n);
    store.clearTags(['public.t'], 90n);
    expect(store.get('k', ['public.t']).marks.lsn).to.equal(90n);
    expect(store.get('k', ['public.other']).marks.lsn).to.equal(70n);
  });

  it('expires entries by the injected clock, no sleeping', () => {
    let now = 0;
    const store = new MemoryCacheStore({ max: 10, clock: { now: () => now } });
    store.set('short', entry('s'), [], store.get('short', []).marks, 100);
    store.set('long', entry('l'), [], store.get('long', []).marks, 10_000);
    now += 100;
    expect(store.get('short', []).entry?.value).to.equal('s');
    now += 1;
    expect(store.get('short', []).entry).to.equal(undefined);
    expect(store.get('long', []).entry?.value).to.equal('l');
    now += 10_000;
    expect(store.get('long', []).entry).to.equal(undefined);
    expect(store.stats().entries).to.equal(0);
  });

  it('evicts least recently used entries beyond max and beyond maxBytes', () => {
    const byCount = new MemoryCacheStore({ max: 2 });
    for (const k of ['a', 'b', 'c']) byCount.set(k, entry(k), ['public.t'], byCount.get(k, ['public.t']).marks, 1000);
    expect(byCount.get('a', []).entry).to.equal(undefined);
    expect(byCount.stats().entries).to.equal(2);
    const bySize = new MemoryCacheStore({ max: 100, maxBytes: 100 });
    for (const k of ['a', 'b', 'c']) bySize.set(k, entry(k, 40), [], bySize.get(k, []).marks, 1000);
    expect(bySize.stats()).to.deep.equal({ entries: 2, bytes: 80 });
    expect(bySize.set('big', entry('x', 101), [], bySize.get('big', []).marks, 1000)).to.equal(false);
  });

  it('forgets the tag index of evicted entries, so invalidation stays exact', () => {
    const store = new MemoryCacheStore({ max: 1 });
    store.set('a', entry(1), ['public.t'], store.get('a', ['public.t']).marks, 1000);
    store.set('b', entry(2), ['public.u'], store.get('b', ['public.u']).marks, 1000);
    store.clearTags(['public.t'], 0n);
    expect(store.get('b', ['public.u']).entry?.value).to.equal(2);
  });
});
