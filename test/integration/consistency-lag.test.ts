import { expect } from 'chai';
import { SplitKnexError, type ConsistencyStats, type SplitKnex } from '../../lib';
import { getTestCluster, type NodeInfo } from '../support/cluster';
import { pollUntil, sleep } from '../support/cluster/poll';
import { destroyAll, makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

// Lag-aware replica choice against real replication lag: the lag replica applies WAL
// 300 ms late while a background writer keeps the primary busy, so its replay position is
// always behind. Where each read ran comes from the database (inet_server_port()).

function consistencyOf(db: SplitKnex): ConsistencyStats {
  return db.stats().consistency as ConsistencyStats;
}

async function whereReadsRan(db: SplitKnex, n: number): Promise<Map<string, number>> {
  const where = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const [row] = await db.select(db.raw(WHERE_AM_I));
    const name = nodeByPort(row.port);
    where.set(name, (where.get(name) ?? 0) + 1);
  }
  return where;
}

describe('consistency: lag-aware replica choice', function () {
  this.timeout(120_000);
  const cluster = () => getTestCluster();
  let lag: NodeInfo;
  let fresh: NodeInfo;

  before(async () => {
    lag = cluster().lagReplica!;
    fresh = cluster().replicas.find((r) => r.name !== lag.name)!;
    await cluster().query('primary', 'drop table if exists cs_lag_ticks; create table cs_lag_ticks (id serial primary key, at timestamptz default now())');
    await cluster().waitForReplication(30_000, cluster().replicas.map((r) => r.name));
  });
  after(destroyAll);

  describe('with a replica 300 ms behind a busy primary', () => {
    let writing = true;
    let writer: Promise<void> = Promise.resolve();
    before(async () => {
      await cluster().setApplyDelay(lag.name, 300);
      const w = makeDb({ sticky: { mode: 'none' } });
      writing = true;
      writer = (async () => {
        while (writing) {
          await w('cs_lag_ticks').insert({});
          await sleep(20);
        }
      })();
    });
    after(async () => {
      writing = false;
      await writer;
      await cluster().setApplyDelay(lag.name, 0);
    });

    // The reading that showed the lag (a later one may land between two inserts of the writer).
    // With `freshWithin`, the same snapshot must also show the other replica within that
    // limit. A new instance's first poll has no earlier primary position to bound a lag by:
    // a replica a few ms behind the writer then counts as lagging by its replay timestamp's
    // age (here the pause before the writer started) until the next poll sees it caught up.
    // That is an upper bound, so it errs towards the primary.
    async function untilLagging(db: SplitKnex, freshWithin?: number): Promise<ConsistencyStats['replicas'][number]> {
      await db.ready();
      let seen: ConsistencyStats['replicas'][number] | undefined;
      await pollUntil(async () => {
        const replicas = consistencyOf(db).replicas;
        seen = replicas.find((r) => r.name === lag.name);
        const other = replicas.find((r) => r.name === fresh.name);
        return (seen?.lagMs ?? 0) > 150 && (freshWithin === undefined || (other?.lagMs ?? 0) <= freshWithin);
      }, {
        timeoutMs: 15_000, what: `${lag.name} to show a lag over 150 ms in stats()${freshWithin === undefined ? '' : `, ${fresh.name} one within ${freshWithin} ms`}`,
        describe: () => JSON.stringify(consistencyOf(db).replicas),
      });
      return seen!;
    }

    it('skips the lagging replica (maxLagMs) and reads from the other one; stats() shows the lag', async () => {
      const db = makeDb({ sticky: { mode: 'none' }, lag: { maxLagMs: 150, pollIntervalMs: 50 } });
      const seen = await untilLagging(db, 150);
      expect(seen.lagBytes).to.be.above(0);
      expect(seen.replayLsn).to.match(/^[0-9A-F]+\/[0-9A-F]+$/);
      const where = await whereReadsRan(db, 30);
      console.log(`[figures] maxLagMs 150, ${lag.name} at ${seen.lagMs} ms / ${seen.lagBytes} bytes behind: 30 reads ran on ${JSON.stringify(Object.fromEntries(where))}`);
      expect(where.get(lag.name) ?? 0).to.equal(0);
      expect(where.get(fresh.name) ?? 0).to.be.above(0);
      expect(consistencyOf(db).lagSkippedReads).to.be.above(0);
    });

    it('sends reads to the primary when every replica lags; with onExceeded: error, refuses them', async () => {
      const only = [{ name: lag.name, connection: lag.url }];
      const db = makeDb({ replicas: only, sticky: { mode: 'none' }, lag: { maxLagMs: 150, pollIntervalMs: 50 } });
      await untilLagging(db);
      const where = await whereReadsRan(db, 10);
      console.log(`[figures] every replica lagging: 10 reads ran on ${JSON.stringify(Object.fromEntries(where))}`);
      expect(where.get('primary')).to.equal(10);
      expect(db.stats().primaryReads.lag).to.equal(10);

      const strict = makeDb({ replicas: only, sticky: { mode: 'none' }, lag: { maxLagMs: 150, pollIntervalMs: 50, onExceeded: 'error' } });
      await untilLagging(strict);
      try {
        await strict.select(strict.raw(WHERE_AM_I));
        expect.fail('expected ESPLIT_NO_REPLICA');
      } catch (err) {
        expect(err).to.be.instanceOf(SplitKnexError);
        expect((err as SplitKnexError).code).to.equal('ESPLIT_NO_REPLICA');
      }
    });

    it('lag.minReplicas keeps the least-lagged replica serving when every replica lags (graduated), instead of the primary', async () => {
      const only = [{ name: lag.name, connection: lag.url }];
      const db = makeDb({ replicas: only, sticky: { mode: 'none' }, lag: { maxLagMs: 150, pollIntervalMs: 50, minReplicas: 1, hysteresisMs: 60_000 } });
      await untilLagging(db);
      const where = await whereReadsRan(db, 10);
      expect(where.get(lag.name)).to.equal(10);
      expect(db.stats().primaryReads.lag ?? 0).to.equal(0);
    });

    it('a read with a causal requirement may use a lagging replica that has replayed its write', async () => {
      const only = [{ name: lag.name, connection: lag.url }];
      const db = makeDb({ replicas: only, sticky: { mode: 'lsn', maxWaitMs: 5000, scope: 'none' }, lag: { maxLagMs: 150, pollIntervalMs: 50 } });
      await untilLagging(db);
      const row = await db.runInContext(async () => {
        const [ins] = await db('cs_lag_ticks').insert({}).returning('id');
        return db('cs_lag_ticks').where({ id: ins.id }).first('id', db.raw(WHERE_AM_I));
      });
      expect(row).to.not.equal(undefined);
      expect(nodeByPort(row.port)).to.equal(lag.name);
    });
  });

  it('an idle primary does not make a caught-up replica look late: zero lag by position', async () => {
    const db = makeDb({ sticky: { mode: 'none' }, lag: { maxLagMs: 300, pollIntervalMs: 50 } });
    await db.ready();
    await cluster().waitForReplication(30_000, [fresh.name]);
    // Nothing commits now: the replay timestamp ages while positions stay equal.
    let ageMs = 0;
    await pollUntil(async () => {
      const [r] = await cluster().query(fresh.name, 'select extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000 as age');
      ageMs = Number(r.age);
      return ageMs > 600;
    }, { timeoutMs: 20_000, what: `${fresh.name} replay timestamp to age past 600 ms` });
    await pollUntil(async () => consistencyOf(db).replicas.every((r) => r.lagMs === 0 && r.lagBytes === 0), {
      timeoutMs: 10_000, what: 'every replica to report zero lag', describe: () => JSON.stringify(consistencyOf(db).replicas),
    });
    const where = await whereReadsRan(db, 6);
    console.log(`[figures] idle primary: ${fresh.name} replay timestamp ${Math.round(ageMs)} ms old, lag by position 0 ms; 6 reads ran on ${JSON.stringify(Object.fromEntries(where))}`);
    expect(where.get('primary') ?? 0).to.equal(0);
    expect(consistencyOf(db).lagSkippedReads).to.equal(0);
  });
});
