import { expect } from 'chai';
import type { ConsistencyStats, SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

// Weights, monotonic reads, per-query staleness and explicit positions, judged by the
// database: each read says which server answered it.

async function insertRow(db: SplitKnex, v: number): Promise<number> {
  const [row] = await db('cg_items').insert({ v }).returning('id');
  return row.id as number;
}

async function whereAndFound(db: SplitKnex, id: number, bound?: number): Promise<{ node: string; found: boolean }> {
  let q = db.raw(`select ${WHERE_AM_I}, exists(select 1 from cg_items where id = ?) as found`, [id]);
  if (bound !== undefined) q = q.maxStaleness(bound);
  const { rows } = await q;
  return { node: nodeByPort(rows[0].port as number), found: rows[0].found as boolean };
}

describe('consistency: weights, monotonic reads, staleness bounds and explicit positions', function () {
  this.timeout(120_000);
  const cluster = () => getTestCluster();

  before(async () => {
    await cluster().query('primary', 'drop table if exists cg_items; create table cg_items (id serial primary key, v int not null)');
    await cluster().waitForReplication(30_000, cluster().replicas.map((r) => r.name));
  });
  after(() => destroyAll());

  it('honours replica weights for reads that follow a write (weight 2 takes about 2/3 of them)', async () => {
    const [a, b] = cluster().replicas;
    const db = makeDb({
      replicas: [{ name: a!.name, connection: a!.url, weight: 1 }, { name: b!.name, connection: b!.url, weight: 2 }],
      sticky: { mode: 'lsn', maxWaitMs: 200, scope: 'none' },
      lag: { pollIntervalMs: 100 },
    });
    await db.ready();
    const count: Record<string, number> = {};
    let stale = 0;
    for (let i = 0; i < 150; i++) {
      const seen = await db.runInContext(async () => whereAndFound(db, await insertRow(db, i)));
      count[seen.node] = (count[seen.node] ?? 0) + 1;
      if (!seen.found) stale++;
    }
    const onReplicas = (count[a!.name] ?? 0) + (count[b!.name] ?? 0);
    console.log(`[figures] weights 1:2, 150 write-then-read pairs (maxWaitMs 200): ${JSON.stringify(count)}, ${stale} stale`);
    expect(stale).to.equal(0);
    expect(onReplicas).to.be.at.least(120);
    expect((count[b!.name] ?? 0) / onReplicas).to.be.within(0.55, 0.78);
  });

  it('a read that must see a write while every primary connection is taken goes to a replica that replayed it instead of queueing (default maxWaitMs)', async () => {
    const db = makeDb({ pool: { min: 0, max: 1 }, acquireConnectionTimeout: 5_000, lag: { pollIntervalMs: 50 } });
    await db.ready();
    for (let round = 0; round < 3; round++) {
      const id = await insertRow(db, round); // the instance-wide scope has a young write
      const trx = await db.transaction(); // holds the primary's only connection
      try {
        // Before: the read went to the primary at once (its write was young) and queued
        // behind the transaction until the acquire timeout. Now it waits for the write's
        // position (on the background link) and takes a replica that replayed it.
        const seen = await whereAndFound(db, id);
        expect(seen.found).to.equal(true);
        expect(cluster().replicas.map((r) => r.name)).to.include(seen.node);
      } finally {
        await trx.commit();
      }
    }
    const c = db.stats().consistency as ConsistencyStats;
    expect(c.pendingPrimaryReads).to.equal(0);
    expect(c.busyPrimaryWaits).to.be.at.least(1);
    console.log(`[figures] busy primary: 3 reads right after a write, ${c.busyPrimaryWaits} given the busy-primary wait, ${c.causalWaits} asked replicas, ${c.causalReplicaReads} on a caught-up replica`);
  });

  it('a read that must see a write while the primary answers reads far slower than the replicas goes to a replica that replayed it (default maxWaitMs)', async () => {
    // A saturated primary, made real: reads of this view sleep 30 ms on the primary and not
    // on a standby.
    await cluster().query('primary', `create or replace view cg_slow as
      select c.id, c.v from cg_items c, (select pg_sleep(case when pg_is_in_recovery() then 0 else 0.03 end)) s`);
    await cluster().waitForReplication(30_000, cluster().replicas.map((r) => r.name));
    try {
      const db = makeDb({ lag: { pollIntervalMs: 50 } });
      await db.ready();
      const replicas = cluster().replicas.map((r) => r.name);
      const slowRead = async (id: number) => {
        const { rows } = await db.raw(`select ${WHERE_AM_I}, exists(select 1 from cg_slow where id = ?) as found`, [id]);
        return { node: nodeByPort(rows[0].port as number), found: rows[0].found as boolean };
      };
      const seen: string[] = [];
      for (let i = 0; i < 80 && seen.filter((n) => replicas.includes(n)).length < 3; i++) {
        // A request of its own scope reads on a replica (fast); then the instance-wide scope
        // writes and reads its row at once. Before: that read went to the primary every time
        // (its write was young and the primary had free connections), 30 ms each.
        const other = await db.runInContext(() => slowRead(1));
        expect(replicas).to.include(other.node);
        const read = await slowRead(await insertRow(db, i));
        expect(read.found, `read ${i} on ${read.node} missed its write`).to.equal(true);
        seen.push(read.node);
      }
      const c = db.stats().consistency as ConsistencyStats;
      console.log(`[figures] slow primary: reads right after a write went to ${JSON.stringify(seen)}; ${c.busyPrimaryWaits} given the busy-primary wait`);
      expect(seen.filter((n) => replicas.includes(n)).length).to.equal(3);
      expect(c.busyPrimaryWaits).to.be.at.least(3);
    } finally {
      await cluster().query('primary', 'drop view cg_slow');
    }
  });

  it('stats().nodes[].readMs: null before a node\'s first read, set by a read, untouched by a stream (it lasts as long as its consumer)', async () => {
    const db = makeDb({});
    await db.ready();
    const readMs = () => Object.fromEntries(db.stats().nodes.map((n) => [n.name, n.readMs]));
    expect(Object.values(readMs())).to.deep.equal([null, null, null]);
    await new Promise<void>((resolve, reject) => {
      const stream = db('cg_items').select('id').stream();
      stream.on('data', () => undefined).on('end', () => resolve()).on('error', reject);
    });
    expect(Object.values(readMs())).to.deep.equal([null, null, null]);
    await db('cg_items').select('id').limit(1);
    const after = readMs();
    expect(Object.values(after).filter((v) => typeof v === 'number' && v >= 0)).to.have.length(1);
    expect(after['primary']).to.equal(null);
  });

  it('monotonic reads: once a scope read from the caught-up replica, it never reads from one behind it', async () => {
    const [fresh, behind] = cluster().replicas;
    await cluster().setApplyDelay(behind!.name, 2000);
    try {
      const db = makeDb({ sticky: { mode: 'lsn', scope: 'none' }, lag: { pollIntervalMs: 50 } });
      await db.ready();
      // Writes by someone else: the delayed replica falls behind the other one.
      const other = makeDb({ sticky: { mode: 'none' } });
      for (let i = 0; i < 5; i++) await insertRow(other, i);
      await cluster().waitForReplication(30_000, [fresh!.name]);
      await new Promise((resolve) => setTimeout(resolve, 150)); // a poll sees both positions
      const seen = await db.runInContext(async () => {
        const nodes: string[] = [];
        for (let i = 0; i < 30; i++) {
          const { rows } = await db.raw(`select ${WHERE_AM_I}`);
          nodes.push(nodeByPort(rows[0].port as number));
        }
        return nodes;
      });
      const first = seen.indexOf(fresh!.name);
      expect(first).to.be.at.least(0);
      expect(seen.slice(first)).to.not.include(behind!.name);
      expect((db.stats().consistency as ConsistencyStats).monotonicSkips).to.be.above(0);
    } finally {
      await cluster().setApplyDelay(behind!.name, 0);
    }
  });

  it('.maxStaleness(ms): a replica 2 s behind never takes a read bounded below that; the caught-up one or the primary does', async () => {
    const [fresh, behind] = cluster().replicas;
    await cluster().setApplyDelay(behind!.name, 2000);
    try {
      const db = makeDb({ sticky: { mode: 'none' }, lag: { pollIntervalMs: 50 } });
      await db.ready();
      const writer = makeDb({ sticky: { mode: 'none' } });
      // A busy primary: after a second of writes the delayed replica's data is over 500 ms old.
      let writing = true;
      const writes = (async () => { for (let i = 0; writing; i++) { await insertRow(writer, i); await new Promise((r) => setTimeout(r, 5)); } })();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const count: Record<string, number> = {};
      try {
        for (let i = 0; i < 40; i++) {
          const seen = await whereAndFound(db, 0, 500);
          count[seen.node] = (count[seen.node] ?? 0) + 1;
        }
      } finally {
        writing = false;
        await writes;
      }
      console.log(`[figures] maxStaleness(500) with ${behind!.name} 2 s behind: ${JSON.stringify(count)}`);
      expect(count[behind!.name] ?? 0).to.equal(0);
      const s = db.stats().consistency as ConsistencyStats;
      expect(s.boundedReplicaReads + s.boundedPrimaryReads).to.equal(40);
    } finally {
      await cluster().setApplyDelay(behind!.name, 0);
    }
  });

  it('applyPosition(lsn) from elsewhere: reads in the scope see everything committed up to it', async () => {
    const lag = cluster().replicas[1]!;
    await cluster().setApplyDelay(lag.name, 500);
    try {
      const reader = makeDb({ replicas: [{ name: lag.name, connection: lag.url }], sticky: { mode: 'lsn', scope: 'none' }, lag: { pollIntervalMs: 50 } });
      await reader.ready();
      const writer = makeDb({ sticky: { mode: 'none' } });
      const id = await insertRow(writer, 1);
      // The commit LSN as an outbox or logical decoding would hand it over.
      const { rows } = await writer.primary.raw('select pg_current_wal_lsn()::text as lsn');
      const lsn = rows[0].lsn as string;
      const without = await reader.runInContext(() => whereAndFound(reader, id));
      const withPosition = await reader.runInContext(() => {
        reader.applyPosition(lsn);
        return whereAndFound(reader, id);
      });
      expect(without).to.deep.equal({ node: lag.name, found: false }); // the problem it solves
      expect(withPosition.found).to.equal(true);
      expect(() => reader.runInContext(() => reader.applyPosition('not-an-lsn'))).to.throw(/applyPosition/);
    } finally {
      await cluster().setApplyDelay(lag.name, 0);
    }
  });
});
