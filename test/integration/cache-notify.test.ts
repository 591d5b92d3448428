import { expect } from 'chai';
import type { CacheEvent, CacheStats, SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb } from '../support/split-db';

const cacheOf = (db: SplitKnex): CacheStats => db.stats().cache as CacheStats;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const CHANNEL = `ca_notify_${process.pid}`;

async function instance(): Promise<SplitKnex> {
  const db = makeDb({ cache: { max: 1000, ttlMs: 60_000, strategy: 'all', invalidation: 'notify', channel: CHANNEL } });
  await db.ready();
  await until(() => cacheOf(db).catalog.ready && cacheOf(db).listener?.connected === true, 'catalog and listener');
  return db;
}

/** Reads until a read is a hit (after an invalidation a replica must first be known to have replayed it). */
async function warm(db: SplitKnex, id: number): Promise<void> {
  await until(async () => {
    const before = cacheOf(db).hits;
    await db('ca_shared').where({ id });
    return cacheOf(db).hits > before;
  }, 'a cache hit');
}

describe('result cache across instances: NOTIFY invalidation', () => {
  const cluster = () => getTestCluster();
  before(async () => {
    await cluster().query('primary', 'drop table if exists ca_shared; create table ca_shared (id int primary key, v int not null); insert into ca_shared values (1, 0), (2, 0)');
    await cluster().waitForReplication();
  });
  after(destroyAll);

  it("a write through one instance drops the other's entries; own notifications are ignored", async () => {
    const a = await instance();
    const b = await instance();
    let received = 0;
    b.on('cache', (e: CacheEvent) => {
      if (e.outcome === 'invalidate' && e.source === 'remote') received++;
    });
    const rounds = 30;
    for (let i = 1; i <= rounds; i++) {
      await warm(b, 1);
      const seen = received;
      await a('ca_shared').where({ id: 1 }).update({ v: i });
      await until(() => received > seen, 'the remote invalidation');
      // The entry is gone: B's next read is not a hit.
      const hits = cacheOf(b).hits;
      await b('ca_shared').where({ id: 1 });
      expect(cacheOf(b).hits).to.equal(hits);
    }
    expect(cacheOf(b).invalidations.remote).to.equal(rounds);
    expect(cacheOf(a).invalidations).to.deep.include({ local: rounds, remote: 0 });
    await cluster().waitForReplication();
    expect(await b('ca_shared').where({ id: 1 })).to.deep.equal([{ id: 1, v: rounds }]);
  });

  it('reconnects a killed listener, clears the cache and caches nothing while deaf (a missed notification costs nothing)', async () => {
    const a = await instance();
    const b = await instance();
    await warm(b, 2);
    expect(cacheOf(b).entries).to.be.above(0);
    const skipped: string[] = [];
    b.on('cache', (e: CacheEvent) => {
      if (e.outcome === 'skip') skipped.push(e.reason ?? '');
    });
    const killed = await cluster().query('primary', "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'split-knex cache listener'");
    expect(killed.length).to.be.at.least(2);
    await until(() => cacheOf(b).listener?.connected === false, 'the listener to notice');
    expect(cacheOf(b).entries).to.equal(0);
    // Written while B cannot hear: the notification is lost for B.
    await a('ca_shared').where({ id: 2 }).update({ v: 7 });
    await b('ca_shared').where({ id: 2 }).catch(() => undefined);
    await until(() => cacheOf(b).listener?.connected === true, 'the listener to reconnect');
    expect(cacheOf(b).listener?.reconnects).to.be.at.least(1);
    expect(skipped).to.include('NOTIFY listener not connected');
    await cluster().waitForReplication();
    expect(await b('ca_shared').where({ id: 2 })).to.deep.equal([{ id: 2, v: 7 }]);
  });

  it('destroy() closes the listening connection; initialize() listens (and caches) again', async () => {
    const b = await instance();
    const listeners = async (): Promise<number> => (await cluster().query<{ n: number }>('primary',
      "select count(*)::int as n from pg_stat_activity where application_name = 'split-knex cache listener'"))[0]!.n;
    const before = await listeners();
    await b.destroy();
    expect(cacheOf(b).listener?.connected).to.equal(false);
    await until(async () => (await listeners()) === before - 1, 'the listener connection to close');
    b.initialize();
    await b.ready(); // background work (the listener) starts again with the first statement or ready()
    await until(() => cacheOf(b).listener?.connected === true, 'listening again');
    await warm(b, 1);
  });
});
