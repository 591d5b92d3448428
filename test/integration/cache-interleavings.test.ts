import { AsyncLocalStorage } from 'async_hooks';
import { expect } from 'chai';
import type { CacheEvent, CacheStats, SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb } from '../support/split-db';

// What "stale" means here. A reader can know about every write whose `await` returned
// before the reader started (in this process: `done[id]`, the value RETURNING gave on the
// primary). A replica may legitimately answer with older rows (replication lag), so
// uncached reads are not held to that. The cache is: a cache HIT must never be older
// than any write that completed before the read started. We assert exactly that, with
// one replica delayed by APPLY_DELAY_MS so that stale replica answers really happen, and
// we run the same workload with the lag guard off to show that the check catches them.
// Read-your-writes routing (`sticky`) is off, or it would keep reads away from the lagging
// replica after every write and hide exactly the case the cache has to get right.
const IDS = 4;
const OPS = 1200;
const WORKERS = 6;
const WRITE_SHARE = 0.2;
const APPLY_DELAY_MS = 40;

interface Figures {
  reads: number;
  writes: number;
  hits: number;
  staleHits: number;
  misses: number;
  staleMisses: number;
  stats: CacheStats;
}

async function workload(db: SplitKnex): Promise<Figures> {
  const done = new Map<number, number>();
  const als = new AsyncLocalStorage<{ outcome?: string }>();
  db.on('cache', (e: CacheEvent) => {
    const s = als.getStore();
    if (s !== undefined && (e.outcome === 'hit' || e.outcome === 'miss')) s.outcome = e.outcome;
  });
  const f = { reads: 0, writes: 0, hits: 0, staleHits: 0, misses: 0, staleMisses: 0 };
  let remaining = OPS;
  const worker = async (): Promise<void> => {
    while (remaining-- > 0) {
      const id = 1 + Math.floor(Math.random() * IDS);
      if (Math.random() < WRITE_SHARE) {
        const [row] = await db('ca_counter').where({ id }).increment('v', 1).returning('v');
        done.set(id, Math.max(done.get(id) ?? 0, row.v as number));
        f.writes++;
      } else {
        const floor = done.get(id) ?? 0;
        const state: { outcome?: string } = {};
        // then() inside run(): the query runs in the read's own async context.
        const row = await als.run(state, () => db('ca_counter').where({ id }).first().cache().then((r: { v: number }) => r));
        f.reads++;
        if (state.outcome === 'hit') {
          f.hits++;
          if (row.v < floor) f.staleHits++;
        } else {
          f.misses++;
          if (row.v < floor) f.staleMisses++;
        }
      }
      if (Math.random() < 0.3) await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return { ...f, stats: db.stats().cache as CacheStats };
}

async function ready(db: SplitKnex): Promise<void> {
  await db.ready();
  const end = Date.now() + 15_000;
  while (!(db.stats().cache as CacheStats).catalog.ready) {
    if (Date.now() > end) throw new Error('catalog not loaded');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('result cache: zero stale hits over randomized concurrent reads and writes', () => {
  const cluster = () => getTestCluster();
  const lag = () => cluster().lagReplica!.name;
  before(async () => {
    await cluster().query('primary', `drop table if exists ca_counter; create table ca_counter (id int primary key, v int not null);
      insert into ca_counter select g, 0 from generate_series(1, ${IDS}) g`);
    await cluster().waitForReplication();
    await cluster().setApplyDelay(lag(), APPLY_DELAY_MS);
  });
  after(async () => {
    await cluster().setApplyDelay(lag(), 0);
    await destroyAll();
  });

  it(`${OPS} operations (${WORKERS} concurrent workers, ${WRITE_SHARE * 100}% writes), one replica ${APPLY_DELAY_MS} ms behind: no hit older than a completed write`, async () => {
    const db = makeDb({ cache: { max: 1000, ttlMs: 60_000 }, sticky: { mode: 'none' } });
    await ready(db);
    const began = Date.now();
    // Every write clears the table's entries and the lag guard refuses stores from a replica
    // that has not replayed it, so hits are a minority (about 100 of 950 reads a round here):
    // run rounds until one hit shows the check below exercised, at most 20. (When each write's
    // invalidation lost its commit position, caching shut after almost every write and whole
    // rounds had no hit; the cache test "publishes its invalidation with its own commit
    // position" pins that.)
    let f = await workload(db);
    let rounds = 1;
    while (f.hits === 0 && rounds < 20) {
      const g = await workload(db);
      f = {
        reads: f.reads + g.reads, writes: f.writes + g.writes, hits: f.hits + g.hits, staleHits: f.staleHits + g.staleHits,
        misses: f.misses + g.misses, staleMisses: f.staleMisses + g.staleMisses, stats: g.stats,
      };
      rounds++;
    }
    const s = f.stats;
    console.log(`[figures] cache interleavings (lag guard on, ${rounds} round(s)): ${f.reads} reads, ${f.writes} writes in ${Date.now() - began} ms; `
      + `${f.hits} hits, ${f.staleHits} stale hits; ${f.misses} misses, ${f.staleMisses} of them answered by a lagging replica; `
      + `stores ${s.stores}, stale-put rejections ${s.staleRejections}, lag rejections ${s.lagRejections}, replay polls ${s.replayPolls}`);
    expect(f.reads + f.writes).to.equal(OPS * rounds);
    expect(f.staleHits).to.equal(0);
    expect(f.hits).to.be.above(0);

    // Quiescent: every cached answer equals the primary's truth.
    await cluster().waitForReplication(20_000, cluster().replicas.map((r) => r.name));
    const truth = await cluster().query<{ id: number; v: number }>('primary', 'select id, v from ca_counter order by id');
    for (const { id, v } of truth) {
      for (let i = 0; i < 3; i++) expect((await db('ca_counter').where({ id }).first().cache()).v).to.equal(v);
    }
  });

  it('the same workload with the lag guard off serves stale hits: the check above can fail', async () => {
    const db = makeDb({ cache: { max: 1000, ttlMs: 60_000, lagGuard: false }, sticky: { mode: 'none' } });
    await ready(db);
    const f = await workload(db);
    console.log(`[figures] cache interleavings (lag guard OFF, control): ${f.reads} reads, ${f.hits} hits, ${f.staleHits} stale hits, `
      + `${f.staleMisses} stale replica answers`);
    expect(f.staleHits).to.be.above(0);
  });
});
