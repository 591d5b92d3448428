import { rejection } from '../support/rejection';
import { expect } from 'chai';
import type { Knex } from 'knex';
import type { SplitKnex } from '../../lib';
import { parseLsn } from '../../lib/wal-position';
import type { ReadRetryEvent } from '../../lib/route/read-retry';
import { getTestCluster } from '../support/cluster';
import { useLaggingReplica } from '../support/lagging-replica';
import { makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

const DELAY_MS = 4000;
const OBJECTS = `drop table if exists sl_items, sl_gone cascade; drop function if exists sl_double(int);
  drop type if exists sl_mood; create table sl_items (id int primary key, name text); insert into sl_items values (1, 'a');`;

describe('schema lag: a replica that has not replayed a migration', function () {
  this.timeout(60_000);
  const cluster = () => getTestCluster();
  const lag = useLaggingReplica(DELAY_MS, async () => {
    await cluster().query('primary', OBJECTS);
  });

  // The migrating instance: every statement of a migration runs on the primary. Its commit
  // is synchronous (the test cluster runs synchronous_commit=off; production's default is on),
  // so the primary's WAL position has passed the migration when the other instance reads.
  let migrator: SplitKnex;
  const migrate = (work: (trx: Knex.Transaction) => Promise<unknown>) => migrator.transaction(async (trx) => {
    await trx.raw('set local synchronous_commit = on');
    await work(trx);
  });

  // Another instance whose reads go to the lagging replica only, with no read-your-writes
  // and a position poll too slow to have seen the migration: only the guard can save it.
  async function reader(extra: Record<string, unknown> = {}): Promise<{ db: SplitKnex; events: ReadRetryEvent[] }> {
    const db = makeDb({
      replicas: [{ name: lag().name, connection: lag().url }],
      sticky: { mode: 'none' }, lag: { pollIntervalMs: 600_000 }, ...extra,
    });
    const events: ReadRetryEvent[] = [];
    db.on('read-retry', (e: ReadRetryEvent) => events.push(e));
    await db.ready();
    return { db, events };
  }

  before(() => {
    migrator = makeDb();
  });
  after(async () => {
    await cluster().query('primary', 'drop table if exists sl_items, sl_gone cascade; drop function if exists sl_double(int); drop type if exists sl_mood');
  });

  it('a table created on the primary is read through the primary (42P01 while behind), counted and announced', async () => {
    const { db, events } = await reader();
    await migrate((trx) => trx.schema.createTable('sl_new', (t) => { t.integer('id'); }).then(() => trx('sl_new').insert({ id: 7 })));
    const rows = await db('sl_new').select('id', db.raw(WHERE_AM_I));
    expect(rows.map((r: { id: number; port: number }) => [r.id, nodeByPort(r.port)])).to.deep.equal([[7, 'primary']]);
    expect(db.stats().consistency.schemaLagRetries).to.equal(1);
    expect(db.stats().retries).to.equal(1);
    expect(events).to.have.length(1);
    expect(events[0]).to.deep.include({ node: lag().name, retriedOn: 'primary', cause: 'schema-lag', code: '42P01' });
    expect(parseLsn(events[0]!.replayLsn)! < parseLsn(events[0]!.primaryLsn)!, 'the replica was behind').to.equal(true);
    await cluster().query('primary', 'drop table sl_new');
  });

  it('a column added (42703), a function (42883) and a type (42704) created by a migration: each read is retried once on the primary', async () => {
    const { db, events } = await reader({ routing: { readOnlyFunctions: ['sl_double'] } });
    await migrate(async (trx) => {
      await trx.schema.alterTable('sl_items', (t) => { t.text('colour'); });
      await trx('sl_items').update({ colour: 'blue' });
      await trx.raw('create function sl_double(i int) returns int language sql immutable as $$ select i * 2 $$');
      await trx.raw("create type sl_mood as enum ('ok', 'sad')");
    });
    expect(await db('sl_items').select('colour')).to.deep.equal([{ colour: 'blue' }]);
    expect((await db.raw('select sl_double(21) as v')).rows).to.deep.equal([{ v: 42 }]);
    expect((await db.raw("select 'sad'::sl_mood as m")).rows).to.deep.equal([{ m: 'sad' }]);
    expect(events.map((e) => [e.cause, e.code])).to.deep.equal([['schema-lag', '42703'], ['schema-lag', '42883'], ['schema-lag', '42704']]);
    expect(db.stats().consistency.schemaLagRetries).to.equal(3);
    expect(db.stats().totals.replica.errors).to.equal(3);
  });

  it('a bound replica read, a stream and a read-only transaction keep the lagging replica\'s error', async () => {
    const { db, events } = await reader();
    await migrate((trx) => trx.schema.createTable('sl_gone', (t) => { t.integer('id'); }));
    expect((await rejection(db.replica(lag().name)('sl_gone').select())).code).to.equal('42P01');
    const streamed = await rejection(new Promise((resolve, reject) => {
      const stream = db('sl_gone').select().stream();
      stream.on('error', reject);
      stream.on('data', () => undefined);
      stream.on('end', resolve);
    }));
    expect(streamed.code).to.equal('42P01');
    expect((await rejection(db.transaction((trx) => trx('sl_gone').select(), { readOnly: true }))).code).to.equal('42P01');
    expect(events).to.deep.equal([]);
    expect(db.stats().consistency.schemaLagRetries).to.equal(0);
  });

  it('with the replica caught up, an honest 42P01 reaches the caller unchanged from the replica', async () => {
    await cluster().setApplyDelay(lag().name, 0);
    await cluster().waitForReplication(30_000, [lag().name]);
    const { db, events } = await reader();
    const err = await rejection(db('sl_never_created').select());
    expect(err.code).to.equal('42P01');
    expect(err.message).to.match(/relation "sl_never_created" does not exist$/);
    expect(events).to.deep.equal([]);
    const s = db.stats();
    expect(s.consistency.schemaLagRetries).to.equal(0);
    expect(s.retries).to.equal(0);
    expect([s.totals.replica.errors, s.totals.primary.reads]).to.deep.equal([1, 0]);
  });
});
