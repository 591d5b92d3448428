import { expect } from 'chai';
import knex from 'knex';
import { builderSource } from '../../lib/knex/builder-source';
import { ClientPG, Migrator, Seeder, TransactionPG, type BuilderInternals, type KnexClient, type PooledConnection } from '../../lib/knex/knex-internals';
import { acquireFromPool, connectionId, poolCounts, poolFull, releaseToPool, swapPool } from '../../lib/knex/node-pool';

// The pool, transaction and builder internals lib/knex/ relies on (knex 3.x): each fails when knex moves it.
describe('knex pool, transaction and builder seams', () => {
  // A client whose driver connections are plain objects: no database needed.
  function fakeClient(): KnexClient {
    const client = new ClientPG({ client: 'pg', connection: {}, pool: { min: 0, max: 2 } }) as KnexClient & Record<string, unknown>;
    let n = 0;
    client.acquireRawConnection = async () => ({ id: ++n, end: async () => undefined, on() {}, removeListener() {} });
    client.destroyRawConnection = async () => undefined;
    client.validateConnection = () => true;
    return client;
  }

  it('takes and gives back pooled connections through the base client, each with knex\'s __knexUid, and counts them', async () => {
    const client = fakeClient();
    const a = await acquireFromPool(client);
    expect(connectionId(a)).to.match(/^__knexUid\d+$/);
    expect(poolCounts(client)).to.deep.include({ used: 1, free: 0 });
    expect(poolFull(client)).to.equal(false); // max 2: one more may be opened
    const b = await acquireFromPool(client);
    expect(poolFull(client)).to.equal(true); // tarn's max, read as a property
    await releaseToPool(client, b);
    expect(poolFull(client)).to.equal(false);
    await releaseToPool(client, a);
    expect(poolCounts(client)).to.deep.include({ used: 0, free: 2 });
    await client.destroy();
    expect(poolFull(client)).to.equal(false);
    expect(client.pool).to.equal(undefined);
    expect(poolCounts(client)).to.deep.equal({ used: 0, free: 0, pendingAcquires: 0, pendingCreates: 0 });
  });

  it('swaps a pool: the old one is destroyed, its checked-out connections are released into the new pool\'s release', async () => {
    const client = fakeClient();
    const held: PooledConnection = await acquireFromPool(client);
    const old = client.pool;
    expect(swapPool(client, { closeInFlight: false })).to.equal(true);
    expect(client.pool).to.not.equal(old);
    await releaseToPool(client, held); // released into the old pool through the new one: no "not in pool" error
    const fresh = await acquireFromPool(client);
    expect(connectionId(fresh)).to.not.equal(connectionId(held));
    await releaseToPool(client, fresh);
    await client.destroy();
  });

  it('a transaction resolves through _resolver, which knex calls only after COMMIT succeeded', () => {
    const source = (TransactionPG.prototype as unknown as { query(): unknown }).query.toString();
    expect(source).to.match(/status === 1[\s\S]*this\._resolver\(value\)/);
    expect(TransactionPG.prototype.commit.toString()).to.match(/COMMIT;/);
  });

  it('a transaction keeps its promise in _promise and says when COMMIT or ROLLBACK was sent (isCompleted)', () => {
    const ctor = Object.getPrototypeOf(TransactionPG.prototype).constructor.toString();
    expect(ctor).to.match(/this\._promise = /);
    expect(TransactionPG.prototype).to.respondTo('isCompleted');
  });

  it('knex copies queryContext() into _queryContext, which the cache key reads only with postProcessResponse', () => {
    const plain = knex({ client: 'pg' });
    const b = plain('t').queryContext({ tenant: 1 }) as unknown as BuilderInternals;
    expect(b._queryContext).to.deep.equal({ tenant: 1 });
    expect(builderSource(b, b.toSQL()).context).to.equal(undefined);
    const hooked = knex({ client: 'pg', postProcessResponse: (r: unknown) => r });
    const h = hooked('t').queryContext({ tenant: 1 }) as unknown as BuilderInternals;
    expect(builderSource(h, h.toSQL()).context).to.deep.equal({ tenant: 1 });
  });

  it('exposes the Migrator and Seeder classes split-knex binds to the primary', () => {
    const db = knex({ client: 'pg' });
    expect(new Migrator(db)).to.respondTo('latest');
    expect(new Seeder(db)).to.respondTo('run');
  });
});
