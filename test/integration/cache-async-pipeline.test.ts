import { expect } from 'chai';
import Redis from 'ioredis';
import { RedisCacheStore, splitKnex, type CacheStats, type RouteEvent, type SplitKnex } from '../../lib';
import { startCluster, type Cluster } from '../support/cluster';
import { splitConfigFor } from '../support/split-db';

// A cache miss answered by an asynchronous store (Redis) continues down the same pipeline as
// any read: routed once, spread like any read, retried like any read.
const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `split-knex-test-async:${process.pid}:${Date.now()}`;
const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

describe('result cache with an asynchronous store: one pipeline for every miss', () => {
  let cluster: Cluster;
  const admin = new Redis(REDIS_URL);
  const open: Array<{ db: SplitKnex; store: RedisCacheStore }> = [];

  async function instance(extra: Record<string, unknown> = {}): Promise<SplitKnex> {
    const store = new RedisCacheStore({ redis: REDIS_URL, prefix: `${PREFIX}:${open.length}` });
    const db = splitKnex(splitConfigFor(cluster, {
      cache: { ttlMs: 60_000, strategy: 'explicit', store }, sticky: { mode: 'none' }, log: QUIET,
      health: { intervalMs: 100, timeoutMs: 500 }, ...extra,
    }));
    open.push({ db, store });
    await db.ready();
    return db;
  }

  before(async function () {
    this.timeout(60_000);
    // A cluster of its own: a replica is stopped below.
    cluster = await startCluster({ replicas: 2, fixtures: false });
    await cluster.query('primary', 'create table ca_async (id int primary key, v int not null); insert into ca_async select g, g from generate_series(1, 100) g');
    await cluster.waitForReplication();
  });
  after(async () => {
    await Promise.all(open.map(async ({ db, store }) => { await db.destroy(); await store.close(); }));
    const keys = await admin.keys(`${PREFIX}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    await cluster?.destroy();
  });

  it('routes each miss once, and 40 misses over 2 equal replicas split 20/20', async () => {
    const db = await instance();
    const routes: RouteEvent[] = [];
    db.on('route', (e: RouteEvent) => routes.push(e));
    for (let id = 1; id <= 40; id++) await db('ca_async').where({ id }).first().cache();
    const cache = db.stats().cache as CacheStats;
    expect(cache.misses).to.equal(40);
    expect(routes).to.have.length(40);
    const byNode = new Map<string, number>();
    for (const r of routes) byNode.set(r.node, (byNode.get(r.node) ?? 0) + 1);
    expect(Object.fromEntries(byNode)).to.deep.equal({ replica1: 20, replica2: 20 });
  });

  it('retries a miss whose replica refuses connections on the other replica, like any read', async () => {
    const db = await instance({ health: { intervalMs: 60_000, timeoutMs: 500 } });
    await cluster.stop('replica1', 'immediate');
    try {
      const rows = [];
      for (let id = 41; id <= 44; id++) rows.push(await db('ca_async').where({ id }).first().cache());
      expect(rows.map((r) => r.v)).to.deep.equal([41, 42, 43, 44]);
      expect(db.stats().retries).to.be.at.least(1);
      expect((db.stats().cache as CacheStats).misses).to.equal(4);
    } finally {
      await cluster.start('replica1');
    }
  });
});
