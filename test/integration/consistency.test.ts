import { expect } from 'chai';
import { performance } from 'perf_hooks';
import { SplitKnexError, type ConsistencyStats, type SplitKnex, type SplitKnexConfig } from '../../lib';
import { getTestCluster, type NodeInfo } from '../support/cluster';
import { sleep } from '../support/cluster/poll';
import { makeDb } from '../support/split-db';
import { useLaggingReplica } from '../support/lagging-replica';
import { until } from '../support/until';

// Read-your-writes proven by the database itself: every read says which server answered
// (inet_server_port(), pg_is_in_recovery()) and whether the row written just before exists.
// The only replica these instances use is the harness's lag replica, with a real
// recovery_min_apply_delay of 300 ms, so a read that reaches it right after a write is stale.

/** Where a read ran and whether it saw the row. */
interface Seen {
  port: number;
  standby: boolean;
  found: boolean;
}

// A left join on a one-row subquery: even a stale read (row missing) says where it ran.
async function readBack(db: SplitKnex, id: number): Promise<Seen> {
  const { rows } = await db.raw(
    'select s.port, s.standby, i.id is not null as found from (select inet_server_port() as port, pg_is_in_recovery() as standby) s left join cs_items i on i.id = ?',
    [id],
  );
  return rows[0] as Seen;
}

async function insertItem(db: SplitKnex | SplitKnex['primary'], v: number, table = 'cs_items'): Promise<number> {
  const [row] = await db(table).insert({ v }).returning('id');
  return row.id as number;
}

interface Tally {
  pairs: number;
  stale: number;
  onPrimary: number;
  onReplica: number;
}

async function writeThenRead(db: SplitKnex, pairs: number): Promise<Tally> {
  const t: Tally = { pairs, stale: 0, onPrimary: 0, onReplica: 0 };
  for (let i = 0; i < pairs; i++) {
    const seen = await readBack(db, await insertItem(db, i));
    if (!seen.found) t.stale++;
    if (seen.standby) t.onReplica++;
    else t.onPrimary++;
  }
  return t;
}

describe('consistency: read-your-writes against a lagging replica (300 ms apply delay)', function () {
  this.timeout(120_000);
  const cluster = () => getTestCluster();
  let lag: NodeInfo;
  // Only the lagging replica: every routed read that reaches a replica reaches it.
  const lagging = (extra: Partial<SplitKnexConfig>): SplitKnex =>
    makeDb({ replicas: [{ name: lag.name, connection: lag.url }], lag: { pollIntervalMs: 100 }, ...extra });

  useLaggingReplica(300, async (l) => {
    lag = l;
    await cluster().query('primary', 'drop table if exists cs_items; drop table if exists cs_other; create table cs_items (id serial primary key, v int not null); create table cs_other (id serial primary key, v int not null)');
  });

  describe('200 write-then-read pairs per mode', () => {
    const tallies: Record<string, Tally> = {};
    after(() => {
      for (const [mode, t] of Object.entries(tallies)) {
        console.log(`[figures] ${mode}: ${t.pairs} write-then-read pairs, ${t.stale} stale reads, ${t.onPrimary} reads on the primary, ${t.onReplica} on the replica`);
      }
    });

    it("plain splitting (sticky: { mode: 'none' }) reads stale rows from the lagging replica", async () => {
      const t = (tallies.none = await writeThenRead(lagging({ sticky: { mode: 'none' } }), 200));
      expect(t.stale).to.be.above(0);
      expect(t.onReplica).to.equal(200);
    });

    it('window mode: zero stale reads (every read after a write goes to the primary)', async () => {
      const db = lagging({ sticky: { mode: 'window', windowMs: 2000 } });
      const t = (tallies.window = await writeThenRead(db, 200));
      expect(t.stale).to.equal(0);
      expect(db.stats().primaryReads.sticky).to.equal(t.onPrimary);
    });

    it('LSN mode: zero stale reads', async () => {
      const db = lagging({ sticky: { mode: 'lsn' } });
      const t = (tallies.lsn = await writeThenRead(db, 200));
      expect(t.stale).to.equal(0);
      const s = db.stats().consistency as ConsistencyStats;
      // Positions come from shared reads on the background connection, never one per write.
      expect(s.lsnCaptures).to.be.within(1, 200);
      expect(s.pendingPrimaryReads + s.causalPrimaryReads + s.causalReplicaReads).to.equal(200);
    });

    it('LSN mode: writes no read follows (a batch job) cost one shared position read per pause in the commits, not one every 20 ms; a read after the pause finds the position known', async () => {
      const db = lagging({ sticky: { mode: 'lsn' } });
      const captures = () => (db.stats().consistency as ConsistencyStats).lsnCaptures;
      let last = 0;
      let previous = performance.now();
      let pauses = 0; // commits this far apart leave room for a shared read: an event-loop stall
      for (let i = 0; i < 300; i++) {
        last = await insertItem(db, i);
        const now = performance.now();
        if (now - previous >= 20) pauses++;
        previous = now;
      }
      const during = captures();
      console.log(`[figures] 300 writes: ${during} shared position reads (${pauses} pauses of 20 ms or more)`);
      // The first background read, plus at most one per pause (each reads the position once).
      expect(during).to.be.within(1, 1 + pauses);
      // Quiet now: one shared read covers the last write, and a read finds its position known.
      await until(captures, (n) => n > during, 'the shared read after the last write');
      const pending = (db.stats().consistency as ConsistencyStats).pendingPrimaryReads;
      expect((await readBack(db, last)).found).to.equal(true);
      expect((db.stats().consistency as ConsistencyStats).pendingPrimaryReads, 'not sent to the primary for want of a position').to.equal(pending);
    });

    it('LSN mode against a replica with no apply delay: zero stale reads, and reads return to the replica as it catches up', async () => {
      const fresh = cluster().replicas.find((r) => r.name !== lag.name)!;
      // For comparison only (no assertion): plain splitting against a replica that is not delayed.
      const plain = makeDb({ replicas: [{ name: fresh.name, connection: fresh.url }], sticky: { mode: 'none' } });
      tallies['none, replica without delay'] = await writeThenRead(plain, 200);
      for (const maxWaitMs of [0, 50]) {
        const db = makeDb({ replicas: [{ name: fresh.name, connection: fresh.url }], sticky: { mode: 'lsn', maxWaitMs }, lag: { pollIntervalMs: 100 } });
        const t = (tallies[`lsn, replica without delay, maxWaitMs ${maxWaitMs}`] = await writeThenRead(db, 200));
        expect(t.stale).to.equal(0);
        if (maxWaitMs > 0) expect(t.onReplica).to.be.above(0);
      }
    });

    it('LSN mode with maxWaitMs: the read waits for the replica to replay the write, and sees it there', async () => {
      const db = lagging({ sticky: { mode: 'lsn', maxWaitMs: 5000 } });
      const t = (tallies['lsn, maxWaitMs 5000'] = await writeThenRead(db, 5));
      expect(t).to.deep.include({ stale: 0, onReplica: 5 });
      const s = db.stats().consistency as ConsistencyStats;
      expect(s.causalWaits).to.equal(5);
      expect(s.causalWaitMs).to.be.above(5 * 150); // it really waited for the apply delay
    });
  });

  it('LSN mode sends far fewer reads to the primary than window mode once the replica has caught up', async () => {
    const counts: Record<string, { primary: number; replica: number; stale: number; statsPrimary: number }> = {};
    for (const mode of ['window', 'lsn'] as const) {
      const db = lagging({ sticky: { mode, windowMs: 10_000 } });
      const c = { primary: 0, replica: 0, stale: 0, statsPrimary: 0 };
      for (let round = 0; round < 3; round++) {
        const id = await insertItem(db, round);
        await cluster().waitForReplication(30_000, [lag.name]);
        for (let i = 0; i < 20; i++) {
          const seen = await readBack(db, id);
          if (seen.standby) c.replica++;
          else c.primary++;
          if (!seen.found) c.stale++;
        }
      }
      c.statsPrimary = db.stats().primaryReads.sticky ?? 0;
      counts[mode] = c;
      console.log(`[figures] caught-up replica, ${mode} mode: ${c.primary} of 60 reads on the primary, ${c.replica} on the replica, ${c.stale} stale`);
    }
    expect(counts.window).to.deep.include({ primary: 60, stale: 0, statsPrimary: 60 });
    // LSN mode: only the first reads after each write, while the cached replica position is
    // older than the write (refreshed in the background at once), go to the primary.
    expect(counts.lsn).to.deep.include({ stale: 0, statsPrimary: counts.lsn!.primary });
    expect(counts.lsn!.replica).to.be.at.least(50);
  });

  for (const mode of ['window', 'lsn'] as const) {
    it(`${mode} mode: scopes are isolated — one writes and reads its writes, the other keeps reading from the replica`, async () => {
      const db = lagging({ sticky: { mode, scope: 'none' } });
      const reader = db.runInContext(async () => {
        const seen: boolean[] = [];
        for (let i = 0; i < 40; i++) {
          const { rows } = await db.raw('select pg_is_in_recovery() as standby');
          seen.push(rows[0].standby as boolean);
          await sleep(2);
        }
        return seen;
      });
      const writer = db.runInContext(async () => {
        const seen: Seen[] = [];
        for (let i = 0; i < 15; i++) seen.push(await readBack(db, await insertItem(db, i)));
        return seen;
      });
      const [readerSaw, writerSaw] = await Promise.all([reader, writer]);
      expect(readerSaw.every((standby) => standby)).to.equal(true);
      expect(writerSaw.every((s) => s.found)).to.equal(true);
      expect(writerSaw.every((s) => !s.standby)).to.equal(true);
    });
  }

  it('a token carries read-your-writes from one splitKnex instance to another', async () => {
    const a = lagging({ sticky: { mode: 'lsn', scope: 'none' } });
    const b = lagging({ sticky: { mode: 'lsn', scope: 'none' } });
    const { id, token } = await a.runInContext(async () => ({ id: await insertItem(a, 1), token: a.consistencyToken() }));
    expect(token).to.match(/^[A-Za-z0-9_-]{10,200}$/);
    const withoutToken = await b.runInContext(() => readBack(b, id));
    const withToken = await b.runInContext(() => readBack(b, id), { token });
    expect(withoutToken).to.include({ found: false, standby: true }); // the problem the token solves
    expect(withToken).to.include({ found: true, standby: false });
    // Once the replica has replayed the write, the same token lets the read go to it. With
    // maxWaitMs 0 a read never waits for a position: b's last reading of the replica may
    // predate the replay (it replays in bursts 300 ms late, so its rate reads as standing
    // still), and that read goes to the primary while the reading is refreshed. Every read
    // sees the row; the replica takes one once b knows it has replayed.
    await cluster().waitForReplication(30_000, [lag.name]);
    await until(() => b.runInContext(() => readBack(b, id), { token }), (s) => {
      expect(s.found).to.equal(true);
      return s.standby;
    }, 'a read with the token on the replica that replayed it', 5_000);
    // applyConsistencyToken() does the same inside an open scope.
    const { id: id2, token: token2 } = await a.runInContext(async () => ({ id: await insertItem(a, 2), token: a.consistencyToken() }));
    const seen = await b.runInContext(async () => {
      b.applyConsistencyToken(token2);
      return readBack(b, id2);
    });
    expect(seen).to.include({ found: true, standby: false });
  });

  it('a window-mode token makes an LSN-mode instance stick too; a malformed token is refused before anything runs', async () => {
    const a = lagging({ sticky: { mode: 'window', scope: 'none' } });
    const b = lagging({ sticky: { mode: 'lsn', scope: 'none' } });
    const { id, token } = await a.runInContext(async () => ({ id: await insertItem(a, 1), token: a.consistencyToken() }));
    expect(await b.runInContext(() => readBack(b, id), { token })).to.include({ found: true, standby: false });
    let ran = false;
    const bad = `${token.slice(0, -2)}!!`;
    try {
      await b.runInContext(async () => { ran = true; }, { token: bad });
      expect.fail('expected ESPLIT_TOKEN');
    } catch (err) {
      expect(err).to.be.instanceOf(SplitKnexError);
      expect((err as SplitKnexError).code).to.equal('ESPLIT_TOKEN');
    }
    expect(ran).to.equal(false);
  });

  it('resetConsistency() in a worker loop: the next job reads from the replica again', async () => {
    for (const mode of ['window', 'lsn'] as const) {
      const db = lagging({ sticky: { mode, scope: 'none', windowMs: 60_000 } });
      const where: string[] = [];
      await db.runInContext(async () => {
        for (let job = 0; job < 3; job++) {
          db.resetConsistency();
          const id = await insertItem(db, job);
          const seen = await readBack(db, id);
          expect(seen.found).to.equal(true);
          where.push(seen.standby ? 'replica' : 'primary');
          db.resetConsistency();
          const { rows } = await db.raw('select pg_is_in_recovery() as standby');
          where.push(rows[0].standby ? 'replica' : 'primary');
        }
      });
      expect(where, mode).to.deep.equal(['primary', 'replica', 'primary', 'replica', 'primary', 'replica']);
    }
  });

  it('window mode: a write in a transaction starts the window at COMMIT; a rollback starts none', async () => {
    const db = lagging({ sticky: { mode: 'window', windowMs: 500, scope: 'none' } });
    await db.runInContext(async () => {
      let id = 0;
      await db.transaction(async (trx) => {
        id = await insertItem(trx, 1);
        await sleep(700); // longer than the window: a window started at the INSERT would be over
      });
      expect(await readBack(db, id)).to.include({ found: true, standby: false });
    });
    await db.runInContext(async () => {
      await db.transaction(async (trx) => {
        await insertItem(trx, 2);
        throw new Error('roll back');
      }).catch(() => undefined);
      const { rows } = await db.raw('select pg_is_in_recovery() as standby');
      expect(rows[0].standby).to.equal(true);
    });
  });

  it('runInContext(fn, { token }) runs a builder or raw that fn returns (not awaited: knex runs it lazily) inside the scope', async () => {
    const db = lagging({ sticky: { mode: 'lsn', scope: 'none' } });
    const { id, token } = await db.runInContext(async () => {
      const written = await insertItem(db, 7);
      return { id: written, token: db.consistencyToken() };
    });
    const sql = 'select pg_is_in_recovery() as standby, exists(select 1 from cs_items where id = ?) as found';
    const raw = await db.runInContext(() => db.raw(sql, [id]), { token });
    expect(raw.rows[0]).to.include({ found: true, standby: false });
    const built = await db.runInContext(() => db('cs_items').where({ id }).first(), { token });
    expect(built).to.include({ id });
  });

  it('LSN mode: a write in a transaction is tracked at COMMIT', async () => {
    const db = lagging({ sticky: { mode: 'lsn', scope: 'none' } });
    await db.runInContext(async () => {
      const id = await db.transaction((trx) => insertItem(trx, 1));
      expect(await readBack(db, id)).to.include({ found: true, standby: false });
    });
  });

  it('window mode, perTable: only reads of a written table stick', async () => {
    const db = lagging({ sticky: { mode: 'window', perTable: true, scope: 'none' } });
    await db.runInContext(async () => {
      const id = await insertItem(db, 1);
      const { rows } = await db.raw('select pg_is_in_recovery() as standby, (select count(*) from cs_other) as n');
      expect(rows[0].standby).to.equal(true);
      expect(await readBack(db, id)).to.include({ found: true, standby: false });
    });
  });

  describe('when the WAL position cannot be read', () => {
    const role = 'cs_limited';
    before(async () => {
      await cluster().query('primary', `do $$ begin if not exists (select from pg_roles where rolname = '${role}') then create role ${role} login password '${role}'; end if; end $$;
        grant select, insert on cs_items to ${role}; grant usage on sequence cs_items_id_seq to ${role};
        revoke execute on function pg_current_wal_insert_lsn() from public`);
      await cluster().waitForReplication(30_000, [lag.name]); // the role must exist on the replica too
    });
    after(async () => {
      await cluster().query('primary', `grant execute on function pg_current_wal_insert_lsn() to public; drop owned by ${role}; drop role ${role}`);
    });

    it('LSN mode keeps reads after a write on the primary, says why in stats() and once in the log, and still reads no stale row', async () => {
      const as = (n: NodeInfo) => ({ host: n.host, port: n.port, database: n.database, user: role, password: role });
      const db = makeDb({ connection: as(cluster().primary), replicas: [{ name: lag.name, connection: as(lag) }], sticky: { mode: 'lsn' } });
      const warnings: unknown[] = [];
      db.client.logger.warn = (m: unknown) => warnings.push(m);
      const t = await writeThenRead(db, 20);
      expect(t.stale).to.equal(0);
      // The pairs may all finish before the shared position read is first tried (reads right
      // after a write go to the primary without it): one more read that asks, until one failed.
      await until(async () => (await readBack(db, 1), (db.stats().consistency as ConsistencyStats).lsnUnavailable), (e) => e !== null, 'a failed shared position read');
      const s = db.stats().consistency as ConsistencyStats;
      expect(s.effectiveMode).to.equal('lsn'); // a failure is transient: never a mode switch
      expect(s.lsnUnavailable).to.match(/^42501/);
      expect(s.lsnCaptures).to.equal(0);
      expect(warnings).to.have.length(1);
    });
  });
});
