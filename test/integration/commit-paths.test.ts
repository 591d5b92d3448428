import { expect } from 'chai';
import type { Knex } from 'knex';
import type { CacheStats, SplitKnex } from '../../lib';
import { getTestCluster, type NodeInfo } from '../support/cluster';
import { pollUntil } from '../support/cluster/poll';
import { useLaggingReplica } from '../support/lagging-replica';
import { makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

// Every way of committing a transaction finishes its after-commit effects (the commit's
// position, cache invalidation) before the caller resumes; rollback runs none. A
// transaction on a replica records nothing. Proven against the real lagging replica (300 ms
// apply delay): a read right after the commit that reached it unguarded would miss the row.

type Trx = Knex.Transaction;

/** One way of committing: runs `write` inside a transaction and commits it. */
type CommitPath = (db: SplitKnex, write: (trx: Trx) => Promise<void>) => Promise<void>;

const paths: Array<[string, CommitPath]> = [
  ['the callback returns', (db, write) => db.transaction(async (trx) => write(trx))],
  ['await trx.commit()', async (db, write) => {
    const trx = await db.transaction();
    await write(trx);
    await trx.commit();
  }],
  ['a transaction provider, then trx.commit()', async (db, write) => {
    const provider = db.transactionProvider();
    const trx = await provider();
    await write(trx);
    await trx.commit();
  }],
  ['a savepoint released by its callback, then the outer callback returns', (db, write) =>
    db.transaction(async (trx) => trx.transaction(async (sp) => write(sp)))],
  ['a savepoint committed, then await trx.commit()', async (db, write) => {
    const trx = await db.transaction();
    const sp = await trx.transaction();
    await write(sp);
    await sp.commit();
    await trx.commit();
  }],
];

async function insertRow(trx: Trx, v: number): Promise<number> {
  const [row] = await trx('cp_paths').insert({ v }).returning('id');
  return row.id as number;
}

describe('commit paths: effects finish before the caller resumes', function () {
  this.timeout(90_000);
  const cluster = () => getTestCluster();
  let lag: NodeInfo;
  useLaggingReplica(300, async (l) => {
    lag = l;
    await cluster().query('primary', 'drop table if exists cp_paths; create table cp_paths (id serial primary key, v int not null)');
  });
  const fresh = (): NodeInfo => cluster().replicas.find((r) => r.name !== lag.name)!;

  for (const [how, commit] of paths) {
    it(`${how}: a read right after it sees the row on the lagging replica's instance (LSN mode)`, async () => {
      const db = makeDb({ replicas: [{ name: lag.name, connection: lag.url }], sticky: { mode: 'lsn', maxWaitMs: 5000 } });
      for (let i = 0; i < 3; i++) {
        let id = 0;
        await commit(db, async (trx) => {
          id = await insertRow(trx, i);
        });
        const seen = await db('cp_paths').where({ id }).first('id');
        expect(seen, `row ${id} right after the commit (${how})`).to.not.equal(undefined);
      }
      expect(db.stats().consistency.lsnCaptures).to.equal(3);
    });

    it(`${how}: with the cache on, the read right after it is no stale hit`, async () => {
      await cluster().waitForReplication(30_000, [fresh().name]);
      const db = makeDb({ replicas: [{ name: fresh().name, connection: fresh().url }], sticky: { mode: 'lsn', maxWaitMs: 5000 }, cache: { max: 100, ttlMs: 60_000, strategy: 'all' } });
      await db.ready();
      await pollUntil(async () => (db.stats().cache as CacheStats).catalog.ready, { timeoutMs: 10_000, what: "the cache's relation catalog" });
      const count = async () => Number((await db('cp_paths').count({ n: '*' }))[0]!.n);
      const before = await count();
      expect(await count()).to.equal(before);
      expect((db.stats().cache as CacheStats).hits, 'the entry to go stale').to.equal(1);
      await commit(db, async (trx) => {
        await insertRow(trx, 1);
      });
      expect(await count()).to.equal(before + 1);
      expect((db.stats().cache as CacheStats).invalidations.local).to.equal(1);
    });
  }

  it('rollback (callback throws, trx.rollback(), a provider rolled back) runs no effect', async () => {
    const db = makeDb({ replicas: [{ name: fresh().name, connection: fresh().url }], sticky: { mode: 'lsn' }, cache: { max: 100, ttlMs: 60_000, strategy: 'all' } });
    await db.transaction(async (trx) => {
      await insertRow(trx, 1);
      throw new Error('roll back');
    }).catch(() => undefined);
    const trx = await db.transaction();
    await insertRow(trx, 2);
    await trx.rollback();
    const p = await db.transactionProvider()();
    await insertRow(p, 3);
    await p.rollback();
    expect(db.stats().consistency.lsnCaptures).to.equal(0);
    expect((db.stats().cache as CacheStats).invalidations.local).to.equal(0);
  });

  describe('read-only transactions', () => {
    it("set_config(…, true) and an advisory lock (classified as writes) in a read-only transaction on a replica record nothing: LSN mode stays, no effect, stats unchanged", async () => {
      const db = makeDb({ replicas: [{ name: fresh().name, connection: fresh().url }], sticky: { mode: 'lsn' }, cache: { max: 100, ttlMs: 60_000, strategy: 'all' } });
      const access: string[] = [];
      db.on('route', (e: { access: string; inTransaction: boolean }) => {
        if (e.inTransaction) access.push(e.access);
      });
      const where = await db.transaction(async (trx) => {
        await trx.raw("select set_config('app.tenant', '42', true)");
        // Classified as a write (a write function), runs fine on a standby.
        await trx.raw('select pg_advisory_xact_lock(42)');
        const [row] = (await trx.raw(`select ${WHERE_AM_I}, current_setting('app.tenant') as tenant`)).rows;
        await trx('cp_paths').count({ n: '*' });
        return row as { port: number; standby: boolean; tenant: string };
      }, { readOnly: true });
      expect({ node: nodeByPort(where.port), standby: where.standby, tenant: where.tenant }).to.deep.equal({ node: fresh().name, standby: true, tenant: '42' });
      expect(access, 'the advisory lock is classified as a write').to.include('write');
      const c = db.stats().consistency;
      expect({ effectiveMode: c.effectiveMode, lsnUnavailable: c.lsnUnavailable, lsnCaptures: c.lsnCaptures, lsnCaptureFailures: c.lsnCaptureFailures })
        .to.deep.equal({ effectiveMode: 'lsn', lsnUnavailable: null, lsnCaptures: 0, lsnCaptureFailures: 0 });
      expect((db.stats().cache as CacheStats).invalidations.local).to.equal(0);
      // A write afterwards still records its position.
      await db('cp_paths').insert({ v: 9 });
      // Positions are read by one shared query shortly after writes (not on the write's path).
      await pollUntil(async () => db.stats().consistency.lsnCaptures >= 1, { timeoutMs: 10_000, what: 'the shared position read' });
      expect(db.stats().consistency.effectiveMode).to.equal('lsn');
    });

    it('readOnly + serializable runs on the primary (a standby refuses SERIALIZABLE) and works', async () => {
      const db = makeDb({ sticky: { mode: 'lsn' } });
      const row = await db.transaction(async (trx) => {
        const [r] = (await trx.raw(`select ${WHERE_AM_I}, current_setting('transaction_isolation') as iso, current_setting('transaction_read_only') as ro`)).rows;
        await trx('cp_paths').count({ n: '*' });
        return r as { port: number; standby: boolean; iso: string; ro: string };
      }, { readOnly: true, isolationLevel: 'serializable' });
      expect({ node: nodeByPort(row.port), standby: row.standby, iso: row.iso, ro: row.ro })
        .to.deep.equal({ node: 'primary', standby: false, iso: 'serializable', ro: 'on' });
      // Read-only: nothing to record.
      expect(db.stats().consistency.lsnCaptures).to.equal(0);
      // docs/routing.md: DEFERRABLE through SET TRANSACTION, first in the transaction.
      const deferrable = await db.transaction(async (trx) => {
        await trx.raw('set transaction isolation level serializable read only deferrable');
        return (await trx.raw("select current_setting('transaction_deferrable') as d")).rows[0].d as string;
      });
      expect(deferrable).to.equal('on');
    });
  });
});
