import { expect } from 'chai';
import knex from 'knex';
import { splitKnex, SplitKnexError } from '../../lib';
import { cacheMarkOf } from '../../lib/knex/cache-methods';
import type { BuilderInternals } from '../../lib/knex/knex-internals';

describe('cache builder methods', () => {
  // No query runs: pools are lazy (min 0), so a made-up address is fine.
  const db = splitKnex({ client: 'pg', connection: 'postgres://u@127.0.0.1:1/db', replicas: ['postgres://u@127.0.0.1:2/db'], pool: { min: 0, max: 1 }, health: false, catalog: false, lag: { pollIntervalMs: 0 } });
  after(() => db.destroy());
  const mark = (b: unknown) => cacheMarkOf(b as BuilderInternals);

  it('puts .cache() and .noCache() on query and raw builders of a splitKnex instance', () => {
    expect(mark(db('t').cache())).to.deep.equal({ mode: 'on', ttlMs: undefined, key: undefined });
    expect(mark(db('t').cache({ ttlMs: 500, key: 'plans' }))).to.deep.equal({ mode: 'on', ttlMs: 500, key: 'plans' });
    expect(mark(db('t').noCache())).to.deep.equal({ mode: 'off' });
    expect(mark(db.raw('select 1').cache())).to.deep.include({ mode: 'on' });
    expect(mark(db.primary('t').cache())).to.deep.include({ mode: 'on' });
    expect(mark(db('t'))).to.equal(undefined);
  });

  it('does not leak onto other knex instances', () => {
    const plain = knex({ client: 'pg' });
    expect((plain('t') as unknown as { cache?: unknown }).cache).to.equal(undefined);
    expect((plain.raw('select 1') as unknown as { cache?: unknown }).cache).to.equal(undefined);
  });

  it('keeps the methods and the mark on clones', () => {
    const c = db('t').where({ id: 1 }).cache({ ttlMs: 10 }).clone();
    expect(mark(c)).to.deep.equal({ mode: 'on', ttlMs: 10, key: undefined });
    expect(c.noCache).to.be.a('function');
    expect(c.toSQL().sql).to.equal('select * from "t" where "id" = ?');
  });

  it('fails a write that asks to be cached (before any connection is taken), and bad options', async () => {
    const err = await db('t').cache().insert({ a: 1 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(SplitKnexError);
    expect((err as Error).message).to.match(/only reads are cached/);
    expect(() => db('t').cache({ ttlMs: -1 })).to.throw(SplitKnexError, /ttlMs/);
    expect(() => db('t').cache({ key: '' })).to.throw(SplitKnexError, /key/);
    expect(db('t').cache().first().toSQL()).to.be.an('object');
  });

  it('gives invalidateCache() even with the cache off', async () => {
    await db.invalidateCache(['t']);
  });
});
