import { expect } from 'chai';
import Redis from 'ioredis';
import { RedisCacheStore, type CacheStats, type SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb } from '../support/split-db';

// Against the real Redis on 127.0.0.1:6379, under a prefix unique to this run, removed after.
const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `split-knex-test:${process.pid}:${Date.now()}`;
const cacheOf = (db: SplitKnex): CacheStats => db.stats().cache as CacheStats;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('result cache in Redis, shared by two instances', () => {
  const cluster = () => getTestCluster();
  const admin = new Redis(REDIS_URL);
  const stores: RedisCacheStore[] = [];

  // One replica, so that "this replica has replayed the last invalidation" is learnt once.
  async function instance(): Promise<SplitKnex> {
    const store = new RedisCacheStore({ redis: REDIS_URL, prefix: PREFIX });
    stores.push(store);
    const replica = cluster().replicas[0]!;
    const db = makeDb({ cache: { ttlMs: 60_000, strategy: 'all', store }, replicas: [{ name: replica.name, connection: replica.url }] });
    await db.ready();
    await until(() => cacheOf(db).catalog.ready, 'the relation catalog');
    return db;
  }

  before(async () => {
    await cluster().query('primary', 'drop table if exists ca_redis; create table ca_redis (id int primary key, v int not null); insert into ca_redis values (1, 0), (2, 0)');
    await cluster().waitForReplication();
  });
  after(async () => {
    await destroyAll();
    await Promise.all(stores.map((s) => s.close()));
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `{${PREFIX}}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it("one instance's result is another's hit, served from Redis (the replica is not asked)", async () => {
    const a = await instance();
    const b = await instance();
    expect(await a('ca_redis').where({ id: 1 })).to.deep.equal([{ id: 1, v: 0 }]);
    await cluster().query('primary', 'update ca_redis set v = 5 where id = 1');
    await cluster().waitForReplication();
    const reads = b.stats().totals.replica.reads;
    expect(await b('ca_redis').where({ id: 1 })).to.deep.equal([{ id: 1, v: 0 }]);
    expect(b.stats().totals.replica.reads).to.equal(reads);
    expect(cacheOf(b)).to.deep.include({ hits: 1, misses: 0 });
    expect(cacheOf(a)).to.deep.include({ hits: 0, misses: 1, stores: 1 });
    const keys = await admin.keys(`{${PREFIX}}:e:*`);
    expect(keys.length).to.equal(1);
  });

  it("a write through one instance invalidates the other's view at once, without NOTIFY", async () => {
    const a = await instance();
    const b = await instance();
    await until(async () => (await b('ca_redis').where({ id: 2 }), cacheOf(b).hits > 0 || cacheOf(b).stores > 0), 'an entry');
    await a('ca_redis').where({ id: 2 }).update({ v: 9 });
    const hits = cacheOf(b).hits;
    await cluster().waitForReplication();
    expect(await b('ca_redis').where({ id: 2 })).to.deep.equal([{ id: 2, v: 9 }]);
    expect(cacheOf(b).hits).to.equal(hits);
  });

  it('rejects a stale put across instances: generations live in Redis', async () => {
    const a = await instance();
    const b = await instance();
    await until(async () => (await b('ca_redis').where({ id: 2 }), cacheOf(b).stores + cacheOf(b).hits > 0), 'a first entry');
    const stores = cacheOf(b).stores;
    const slow = b.raw('select (select count(*) from generate_series(1, 3000000)) as n, v from ca_redis where id = 1').then((r: { rows: unknown[] }) => r.rows);
    await new Promise((r) => setTimeout(r, 50));
    await a('ca_redis').where({ id: 1 }).update({ v: 6 });
    await slow;
    // The put goes to Redis after the read returned (the caller does not wait for the store).
    await until(() => cacheOf(b).staleRejections + cacheOf(b).stores - stores > 0, 'the put to settle');
    expect(cacheOf(b).staleRejections, JSON.stringify(cacheOf(b))).to.equal(1);
    expect(cacheOf(b).stores).to.equal(stores);
  });

  it("fires knex's start and query events once on a miss answered through the async store", async () => {
    const a = await instance();
    let starts = 0;
    let queries = 0;
    a.on('start', () => starts++);
    a.on('query', () => queries++);
    const builder = a('ca_redis').where({ id: 1 }).select('v');
    let builderStarts = 0;
    builder.on('start', () => builderStarts++);
    await builder;
    expect({ starts, queries, builderStarts }).to.deep.equal({ starts: 1, queries: 1, builderStarts: 1 });
    await until(async () => (await a('ca_redis').where({ id: 1 }).select('v'), cacheOf(a).hits > 0), 'a hit');
    const before = { starts, queries };
    await a('ca_redis').where({ id: 1 }).select('v');
    expect({ starts, queries }).to.deep.equal({ starts: before.starts + 1, queries: before.queries });
  });

  it('runs reads uncached when Redis cannot be reached', async () => {
    const store = new RedisCacheStore({ redis: { port: 1, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null }, prefix: PREFIX });
    stores.push(store);
    const db = makeDb({ cache: { ttlMs: 60_000, strategy: 'all', store } });
    await db.ready();
    await until(() => cacheOf(db).catalog.ready, 'the relation catalog');
    expect(await db('ca_redis').where({ id: 2 })).to.have.length(1);
    expect(await db('ca_redis').where({ id: 2 })).to.have.length(1);
    expect(cacheOf(db).storeErrors).to.be.at.least(2);
    expect(cacheOf(db).hits).to.equal(0);
  });
});
