import { expect } from 'chai';
import { spawnSync } from 'child_process';
import knex, { type Knex } from 'knex';
import path from 'path';
import type { Readable } from 'stream';
import type { CacheStats, SplitKnex } from '../../lib';
import { getTestCluster, type NodeInfo } from '../support/cluster';
import { pollUntil } from '../support/cluster/poll';
import { useLaggingReplica } from '../support/lagging-replica';
import { makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

// `.stream()` through split-knex against the real cluster: a streamed write's effects run
// before the consumer sees 'end'; a stream the consumer destroys settles like in knex; a
// failing stream emits 'error' once; `.timeout(ms, { cancel: true })` cancels on the node
// that runs the query; async stack traces point at the caller like knex's.

/** Reads a stream to its end (or error), collecting rows and counting 'error' events. */
function drain(stream: Readable): Promise<{ rows: Array<Record<string, unknown>>; errors: unknown[] }> {
  const rows: Array<Record<string, unknown>> = [];
  const errors: unknown[] = [];
  return new Promise((resolve) => {
    stream.on('data', (row: Record<string, unknown>) => rows.push(row));
    stream.on('error', (err: unknown) => errors.push(err));
    // 'close' comes after 'end' or 'error'; one more turn lets a second 'error' show up.
    stream.on('close', () => setImmediate(() => resolve({ rows, errors })));
  });
}

// db.ready() does not wait for the cache's relation catalog today: wait for it here.
async function cacheReady(db: SplitKnex): Promise<void> {
  await db.ready();
  await pollUntil(async () => (db.stats().cache as CacheStats).catalog.ready, { timeoutMs: 10_000, what: "the cache's relation catalog" });
}

function plainKnex(node: NodeInfo, extra: Partial<Knex.Config> = {}): Knex {
  return knex({ client: 'pg', connection: node.url, pool: { min: 0, max: 2 }, ...extra });
}

describe('streams', function () {
  this.timeout(60_000);
  const cluster = () => getTestCluster();
  let lag: NodeInfo;
  const onLagging = (extra: Parameters<typeof makeDb>[0] = {}): SplitKnex =>
    makeDb({ replicas: [{ name: lag.name, connection: lag.url }], lag: { pollIntervalMs: 100 }, ...extra });

  useLaggingReplica(300, async (l) => {
    lag = l;
    await cluster().query('primary', 'drop table if exists st_items; create table st_items (id serial primary key, v int not null)');
  });

  describe('a write run through .stream()', () => {
    it("records its position before 'end': a read right after 'end' sees the row (LSN mode, lagging replica)", async () => {
      const db = onLagging({ sticky: { mode: 'lsn', maxWaitMs: 5000 } });
      for (let i = 0; i < 5; i++) {
        const { rows, errors } = await drain(db('st_items').insert({ v: i }).returning('id').stream());
        expect(errors).to.deep.equal([]);
        const id = rows[0]!.id as number;
        const seen = await db('st_items').where({ id }).first('id');
        expect(seen, `row ${id} read right after 'end'`).to.not.equal(undefined);
      }
      expect(db.stats().consistency.lsnCaptures).to.be.at.least(5);
    });

    it("invalidates the cache before 'end': the next cached read is not the pre-write answer", async () => {
      // The replica that keeps up: the cache stores only what a replica answers after it replayed the last invalidation.
      const fresh = cluster().replicas.find((r) => r.name !== lag.name)!;
      await cluster().waitForReplication(30_000, [fresh.name]);
      const db = makeDb({ replicas: [{ name: fresh.name, connection: fresh.url }], sticky: { mode: 'lsn', maxWaitMs: 5000 }, cache: { max: 100, ttlMs: 60_000, strategy: 'all' } });
      await cacheReady(db);
      const count = async () => Number((await db('st_items').count({ n: '*' }))[0]!.n);
      const before = await count();
      expect(await count()).to.equal(before);
      expect((db.stats().cache as CacheStats).hits, JSON.stringify(db.stats().cache)).to.equal(1);
      const { errors } = await drain(db('st_items').insert({ v: 100 }).returning('id').stream());
      expect(errors).to.deep.equal([]);
      expect(await count()).to.equal(before + 1);
    });
  });

  it('reads by stream are neither answered nor stored by the cache', async () => {
    const db = onLagging({ cache: { max: 100, ttlMs: 60_000, strategy: 'all' } });
    await cacheReady(db);
    const a = await drain(db('st_items').select('id').orderBy('id').stream());
    const b = await drain(db('st_items').select('id').orderBy('id').stream());
    expect(b.rows).to.deep.equal(a.rows);
    const s = db.stats().cache as CacheStats;
    expect({ hits: s.hits, misses: s.misses, stores: s.stores, entries: s.entries }).to.deep.equal({ hits: 0, misses: 0, stores: 0, entries: 0 });
  });
});
