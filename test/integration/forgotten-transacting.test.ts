import { rejection } from '../support/rejection';
import { expect } from 'chai';
import createDebug from 'debug';
import fs from 'fs';
import os from 'os';
import path from 'path';
import util from 'util';
import { SplitKnexError, type SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

const WARNING = /read outside transaction (trx\d+), which this async context holds open \(forgot \.transacting\(trx\)\?\)/;

// Captures split-knex:route debug lines while `fn` runs (debug's own output switched on and back).
async function routeDebugLines(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const previous = createDebug.disable();
  const log = createDebug.log;
  createDebug.enable('split-knex:route');
  // debug hands its log function the format string and the arguments, as console.log takes them.
  createDebug.log = (...args: unknown[]) => { lines.push(util.format(...args)); };
  try {
    await fn();
  } finally {
    createDebug.log = log;
    createDebug.disable();
    if (previous) createDebug.enable(previous);
  }
  return lines.filter((l) => WARNING.test(l));
}

describe('a forgotten .transacting(trx): a read outside the transaction its async context holds open', function () {
  this.timeout(30_000);
  const cluster = () => getTestCluster();
  before(async () => {
    await cluster().query('primary', 'drop table if exists ft_items; create table ft_items (id int primary key); insert into ft_items values (1)');
    await cluster().waitForReplication();
  });
  after(async () => {
    await destroyAll();
    await cluster().query('primary', 'drop table if exists ft_items');
  });

  it('is named on split-knex:route in the callback and the promise forms, and not once the transaction is over or for reads through trx', async () => {
    const db = makeDb({ sticky: { mode: 'none' } });
    const warnings = await routeDebugLines(async () => {
      await db.transaction(async (trx) => {
        await trx('ft_items').select();                    // through the transaction: fine
        await db('ft_items').select().transacting(trx);    // the same: fine
        await db('ft_items').where({ id: 1 }).first();     // forgotten
      });
      await db('ft_items').select();                       // the transaction is over
      const trx = await db.transaction();
      await db('ft_items').select();                       // forgotten, promise form
      await trx.rollback();
      await db('ft_items').select();
    });
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.include('select * from "ft_items" where "id" = ? limit ?');
    expect(WARNING.exec(warnings[0]!)![1]).to.not.equal(WARNING.exec(warnings[1]!)![1]);
  });

  it('is not said of another async context\'s read that runs while the transaction is open', async () => {
    const db = makeDb({ sticky: { mode: 'none' } });
    const warnings = await routeDebugLines(async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      let opened!: () => void;
      const isOpen = new Promise<void>((resolve) => { opened = resolve; });
      // Started before the transaction exists: another request's context.
      const other = (async () => {
        await isOpen;
        const rows = await db('ft_items').select();
        release();
        return rows;
      })();
      await db.transaction(async (trx) => {
        await trx('ft_items').select();
        opened();
        await held;
      });
      expect(await other).to.deep.equal([{ id: 1 }]);
    });
    expect(warnings).to.deep.equal([]);
  });

  it('what keeps working: with the primary\'s pool held by the open transaction, the forgotten read runs on a replica (knex would time out)', async () => {
    const db = makeDb({ sticky: { mode: 'none' }, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 2000 });
    const warnings = await routeDebugLines(async () => {
      await db.transaction(async (trx) => {
        await trx('ft_items').select();
        const rows = await db('ft_items').select('id', db.raw(WHERE_AM_I));
        expect(rows.map((r: { port: number }) => nodeByPort(r.port))[0]).to.match(/^replica/);
      });
    });
    expect(warnings).to.have.length(1);
  });

  it('routing.strictTransactions refuses it with ESPLIT_OUTSIDE_TRANSACTION before taking a connection; a read that names its target still runs', async () => {
    const db: SplitKnex = makeDb({ sticky: { mode: 'none' }, routing: { strictTransactions: true } });
    await db.transaction(async (trx) => {
      await trx('ft_items').select();
      const before = db.stats().totals.replica.queries;
      const err = await rejection(db('ft_items').select());
      expect(err).to.be.instanceOf(SplitKnexError);
      expect((err as SplitKnexError).code).to.equal('ESPLIT_OUTSIDE_TRANSACTION');
      expect((err as Error).message).to.match(/outside transaction trx\d+.*forgot \.transacting\(trx\)\?.*select \* from "ft_items"/);
      expect(db.stats().totals.replica.queries).to.equal(before);
      expect(await db('ft_items').select().queryContext({ splitKnex: { target: 'replica' } })).to.deep.equal([{ id: 1 }]);
    });
    // Outside the transaction everything runs.
    expect(await db('ft_items').select()).to.deep.equal([{ id: 1 }]);
    const trx = await db.transaction();
    expect((await rejection(db('ft_items').select()) as SplitKnexError).code).to.equal('ESPLIT_OUTSIDE_TRANSACTION');
    await trx.commit();
    expect(await db('ft_items').select()).to.deep.equal([{ id: 1 }]);
  });

  it('routing.strictTransactions leaves knex\'s own transactions alone: migrations run and roll back', async () => {
    const db = makeDb({ sticky: { mode: 'none' }, routing: { strictTransactions: true } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-migrations-'));
    fs.writeFileSync(path.join(dir, '20240101000000_ft.js'),
      "exports.up = (knex) => knex.schema.createTable('ft_migrated', (t) => { t.integer('id'); });\n"
      + "exports.down = (knex) => knex.schema.dropTable('ft_migrated');\n");
    const config = { directory: dir, tableName: 'ft_knex_migrations' };
    try {
      const [, ran] = await db.migrate.latest(config);
      expect(ran).to.have.length(1);
      const [, rolled] = await db.migrate.rollback(config);
      expect(rolled).to.have.length(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await cluster().query('primary', 'drop table if exists ft_migrated, ft_knex_migrations, ft_knex_migrations_lock');
    }
  });
});
