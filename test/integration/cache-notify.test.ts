import { expect } from 'chai';
import { performance } from 'perf_hooks';
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

describe('result cache across instances: NOTIFY invalidation', () => {
  const cluster = () => getTestCluster();
  before(async () => {
    await cluster().query('primary', 'drop table if exists ca_shared; create table ca_shared (id int primary key, v int not null); insert into ca_shared values (1, 0), (2, 0)');
    await cluster().waitForReplication();
  });
  after(destroyAll);

  it("a write through one instance drops the other's entries within a measured bound; own notifications are ignored", async () => {
    const a = await instance();
    const b = await instance();
    const received: number[] = [];
    b.on('cache', (e: CacheEvent) => {
      if (e.outcome === 'invalidate' && e.source === 'remote') received.push(performance.now());
    });
    const afterCommit: number[] = [];
    const fromStart: number[] = [];
    const rounds = 30;
    for (let i = 1; i <= rounds; i++) {
      await warm(b, 1);
      const seen = received.length;
      const start = performance.now();
      await a('ca_shared').where({ id: 1 }).update({ v: i });
      const committed = performance.now();
      await until(() => received.length > seen, 'the remote invalidation', 5000);
      afterCommit.push(received[seen]! - committed);
      fromStart.push(received[seen]! - start);
      // The entry is gone: B's next read is not a hit.
      const hits = cacheOf(b).hits;
      await b('ca_shared').where({ id: 1 });
      expect(cacheOf(b).hits).to.equal(hits);
    }
    afterCommit.sort((x, y) => x - y);
    fromStart.sort((x, y) => x - y);
    const fmt = (xs: number[]) => `p50 ${percentile(xs, 0.5).toFixed(2)} ms, p95 ${percentile(xs, 0.95).toFixed(2)} ms, max ${xs[xs.length - 1]!.toFixed(2)} ms`;
    console.log(`[figures] NOTIFY invalidation reaching another instance, ${rounds} writes: after the writer's await returned ${fmt(afterCommit)}; from the write's start ${fmt(fromStart)}`);
    expect(afterCommit[afterCommit.length - 1]).to.be.below(2000);
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
    const killedAt = performance.now();
    const killed = await cluster().query('primary', "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'split-knex cache listener'");
    expect(killed.length).to.be.at.least(2);
    await until(() => cacheOf(b).listener?.connected === false, 'the listener to notice');
    expect(cacheOf(b).entries).to.equal(0);
    // Written while B cannot hear: the notification is lost for B.
    await a('ca_shared').where({ id: 2 }).update({ v: 7 });
    await b('ca_shared').where({ id: 2 }).catch(() => undefined);
    await until(() => cacheOf(b).listener?.connected === true, 'the listener to reconnect');
    const reconnectMs = performance.now() - killedAt;
    console.log(`[figures] NOTIFY listener killed by pg_terminate_backend: listening again after ${reconnectMs.toFixed(0)} ms (reconnects: ${cacheOf(b).listener?.reconnects})`);
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
