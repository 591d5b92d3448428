import { expect } from 'chai';
import fs from 'fs';
import path from 'path';
import { Client } from 'pg';
import { classifySql, type CatalogStats, type SplitKnex } from '../../lib';
import { isTempRelationMiss } from '../../lib/classify';
import { RECOVERY_REFUSED_FUNCTIONS } from '../../lib/classify/recovery-refused-functions';
import { getTestCluster, startCluster, type Cluster } from '../support/cluster';
import { pollUntil } from '../support/cluster/poll';
import { destroyAll, makeDb } from '../support/split-db';

interface ProbeFixture { postgres: string; setupSql: string; ran: string[] }
const probe = JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/recovery-probe.json'), 'utf8')) as ProbeFixture;

const SCHEMA = `
drop table if exists sd_orders cascade;
drop view if exists sd_ticket_v;
drop sequence if exists sd_ticket_no;
create table sd_orders (id serial primary key, note text);
create sequence sd_ticket_no;
create view sd_ticket_v as select last_value from sd_ticket_no;
`;

// The standby's refusal of a function: what the generator listed it for.
function refusedByStandby(err: { code?: string; message?: string }): boolean {
  return err.code === '25006' || /recovery|read-only transaction|hot standby/i.test(err.message ?? '');
}

async function lastValue(db: SplitKnex, sql: string): Promise<number> {
  const res = await db.raw(sql);
  return Number((res.rows[0] as { last_value: string | number }).last_value);
}

describe('data a standby holds differently, on a real primary + hot standby', function () {
  this.timeout(60_000);
  const cluster = () => getTestCluster();
  let standby: Client;

  before(async () => {
    await cluster().query('primary', SCHEMA);
    // Three nextval() calls each: the WAL record says 32 values ahead of them.
    await cluster().query('primary', "insert into sd_orders (note) values ('a'), ('b'), ('c')");
    await cluster().query('primary', "select nextval('sd_ticket_no') from generate_series(1, 3)");
    await cluster().waitForReplication();
    standby = new Client({ connectionString: cluster().replicas[0]!.url });
    await standby.connect();
    expect((await standby.query('select pg_is_in_recovery() as r')).rows[0].r).to.equal(true);
  });

  after(async () => {
    await destroyAll();
    await standby?.end();
    await cluster().query('primary', 'drop view if exists sd_ticket_v; drop sequence if exists sd_ticket_no; drop table if exists sd_orders cascade');
  });

  it('a caught-up standby says 33 where the primary says 3 (the premise)', async () => {
    const onStandby = (await standby.query('select last_value from sd_orders_id_seq')).rows[0].last_value;
    const onPrimary = (await cluster().query('primary', 'select last_value from sd_orders_id_seq'))[0].last_value;
    expect([Number(onPrimary), Number(onStandby)]).to.deep.equal([3, 33]);
  });

  it('reads the last_value of a serial sequence, directly and through pg_sequences, as the primary has it (catalog: false)', async () => {
    const db = makeDb({ sticky: { mode: 'none' }, catalog: false });
    expect(await lastValue(db, 'select last_value from sd_orders_id_seq')).to.equal(3);
    expect(await lastValue(db, "select last_value from pg_sequences where sequencename = 'sd_orders_id_seq'")).to.equal(3);
    const res = await db.raw("select pg_sequence_last_value('sd_orders_id_seq') as v");
    expect(Number((res.rows[0] as { v: string }).v)).to.equal(3);
  });

  it('reads a sequence the catalog knows, whatever its name, and a view over it, as the primary has it (catalog: auto)', async () => {
    const db = makeDb({ sticky: { mode: 'none' } });
    await db.raw('select 1'); // the first load begins once the first statement completed
    await pollUntil(async () => (db.stats().catalog as CatalogStats).state === 'ready', { timeoutMs: 20_000, what: 'the catalog to load' });
    expect(await lastValue(db, 'select last_value from sd_ticket_no')).to.equal(3);
    expect(await lastValue(db, 'select last_value from public.sd_ticket_no')).to.equal(3);
    expect(await lastValue(db, 'select last_value from sd_ticket_v')).to.equal(3);
    expect(await lastValue(db, "select last_value from pg_catalog.pg_sequences where sequencename = 'sd_ticket_no'")).to.equal(3);
    expect(await lastValue(db, 'select last_value from sd_orders_id_seq')).to.equal(3);
    // Ordinary tables still go to a replica.
    const res = await db.raw('select count(*)::int as n, pg_is_in_recovery() as standby from sd_orders');
    expect(res.rows[0]).to.deep.equal({ n: 3, standby: true });
  });

  it('runs a pg_temp read on the primary session that has the table, even with catalog: false', async () => {
    const db = makeDb({ sticky: { mode: 'none' }, catalog: false, pool: { min: 0, max: 1 } });
    await db.raw('create temp table if not exists sd_scratch (id int)');
    await db.raw('insert into pg_temp.sd_scratch values (7)');
    const res = await db.raw('select id, pg_is_in_recovery() as standby from pg_temp.sd_scratch');
    expect(res.rows).to.deep.equal([{ id: 7, standby: false }]);
  });

  it('recognises the 42P01 a standby answers for a temporary relation (isTempRelationMiss on real errors)', async () => {
    const errorOf = async (sql: string): Promise<unknown> => standby.query(sql).then(() => undefined, (e: unknown) => e);
    for (const sql of ['select * from sd_scratch_missing', 'select * from pg_temp.sd_scratch_missing', 'select * from "SD Scratch"']) {
      const error = await errorOf(sql);
      expect((error as { code?: string }).code, sql).to.equal('42P01');
      expect(isTempRelationMiss(error, sql), sql).to.equal(true);
    }
    const qualified = 'select * from public.sd_scratch_missing';
    expect(isTempRelationMiss(await errorOf(qualified), qualified)).to.equal(false);
  });

  describe('the generated list of functions a standby refuses', () => {
    // A throwaway primary + standby as the generator uses (wal_level logical, so the
    // logical-decoding functions reach their recovery check), not the shared cluster.
    let probeCluster: Cluster;
    let probeStandby: Client;

    before(async () => {
      probeCluster = await startCluster({ replicas: 1, fixtures: false, settings: { wal_level: 'logical' } });
      await probeCluster.query('primary', probe.setupSql);
      await probeCluster.waitForReplication();
      probeStandby = new Client({ connectionString: probeCluster.replicas[0]!.url });
      await probeStandby.connect();
      await probeStandby.query("set statement_timeout = '2s'");
    });

    after(async () => {
      await probeStandby?.end();
      await probeCluster?.destroy();
    });

    // One savepoint per call inside a transaction that is rolled back.
    async function run(call: string): Promise<{ code?: string; message?: string } | undefined> {
      await probeStandby.query('savepoint p');
      try {
        await probeStandby.query(`select ${call} limit 1`);
        return undefined;
      } catch (e) {
        return e as { code?: string; message?: string };
      } finally {
        await probeStandby.query('rollback to savepoint p');
      }
    }

    it(`each listed function is refused by the standby, with the SQLSTATE the generator saw, and classified for the primary`, async () => {
      const server = String((await probeStandby.query('show server_version')).rows[0].server_version);
      await probeStandby.query('begin');
      try {
        for (const f of RECOVERY_REFUSED_FUNCTIONS) {
          const error = await run(f.call);
          expect(error, `${f.call} ran on the standby`).to.not.equal(undefined);
          expect(refusedByStandby(error!), `${f.call}: ${error!.code} ${error!.message}`).to.equal(true);
          expect(error!.code, f.call).to.equal(f.code);
          expect(classifySql(`select ${f.call}`).target, f.call).to.equal('primary');
        }
      } finally {
        await probeStandby.query('rollback');
      }
      console.log(`[figures] ${RECOVERY_REFUSED_FUNCTIONS.length} generated refusals confirmed on PostgreSQL ${server} (generated from ${probe.postgres})`);
    });

    it(`every sampled built-in the classifier sends to a replica runs on the standby (${probe.ran.length} calls)`, async () => {
      await probeStandby.query('begin');
      const failed: string[] = [];
      try {
        for (const call of probe.ran) {
          expect(classifySql(`select ${call}`).target, call).to.equal('replica');
          const error = await run(call);
          if (error !== undefined) failed.push(`${call}: ${error.code} ${error.message}`);
        }
      } finally {
        await probeStandby.query('rollback');
      }
      expect(failed).to.deep.equal([]);
    });
  });
});
