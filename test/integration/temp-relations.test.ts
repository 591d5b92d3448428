import { rejection } from '../support/rejection';
import { expect } from 'chai';
import type { SplitKnex } from '../../lib';
import type { ReadRetryEvent } from '../../lib/route/read-retry';
import { destroyAll, makeDb } from '../support/split-db';

// One pooled connection per node: the primary's session that created the temporary table
// is the one every primary statement runs on (temporary tables are session state).
function tempDb(catalog: false | 'auto' = false): { db: SplitKnex; events: ReadRetryEvent[] } {
  const db = makeDb({ catalog, sticky: { mode: 'none' }, pool: { min: 0, max: 1 } });
  const events: ReadRetryEvent[] = [];
  db.on('read-retry', (e: ReadRetryEvent) => events.push(e));
  return { db, events };
}

async function withTempTable(db: SplitKnex, name: string): Promise<void> {
  await db.raw(`create temp table ${name} (id int)`);
  await db.raw(`insert into ${name} values (1), (2)`);
}

describe('temporary relations with catalog: false (a standby has none)', function () {
  this.timeout(30_000);
  after(destroyAll);

  it('a read of a temporary table that went to a replica (42P01) runs once more on the primary, counted and announced', async () => {
    const { db, events } = tempDb();
    await withTempTable(db, 'tr_scratch');
    const rows = await db('tr_scratch').select('id').orderBy('id');
    expect(rows).to.deep.equal([{ id: 1 }, { id: 2 }]);
    const s = db.stats();
    expect(s.primaryReads['temp-relation']).to.equal(1);
    expect(s.retries).to.equal(1);
    expect(s.totals.replica.errors).to.equal(1);
    expect(events).to.have.length(1);
    expect(events[0]).to.deep.include({ retriedOn: 'primary', cause: 'temp-relation', code: '42P01', sql: 'select "id" from "tr_scratch" order by "id" asc' });
    expect(events[0]!.node).to.match(/^replica/);
    expect(events[0]!.message).to.match(/relation "tr_scratch" does not exist$/);
  });

  it('raw SQL and a pg_temp-qualified name are the same class: the primary answers', async () => {
    const { db, events } = tempDb();
    await withTempTable(db, 'tr_raw');
    const res = await db.raw('select count(*)::int as n from tr_raw');
    expect(res.rows).to.deep.equal([{ n: 2 }]);
    const joined = await db.raw('select count(*)::int as n from pg_temp.tr_raw a join pg_class c on c.relname = \'tr_raw\'');
    expect(joined.rows[0].n).to.be.at.least(1);
    // The bare name was retried; pg_temp.x goes to the primary by its name, with no retry.
    expect(events.map((e) => e.cause)).to.deep.equal(['temp-relation']);
  });

  it('a bound replica read, a stream and a read-only transaction keep the replica\'s 42P01 (never retried)', async () => {
    const { db, events } = tempDb();
    await withTempTable(db, 'tr_kept');
    expect((await rejection(db.replica()('tr_kept').select())).code).to.equal('42P01');
    const streamed = await rejection(new Promise((resolve, reject) => {
      const stream = db('tr_kept').select().stream();
      stream.on('error', reject);
      stream.on('data', () => undefined);
      stream.on('end', resolve);
    }));
    expect(streamed.code).to.equal('42P01');
    expect((await rejection(db.transaction(async (trx) => trx('tr_kept').select(), { readOnly: true }))).code).to.equal('42P01');
    expect(events).to.deep.equal([]);
    expect(db.stats().primaryReads['temp-relation']).to.equal(undefined);
  });

  it('a relation missing everywhere still fails with 42P01 (the primary\'s answer), and a schema-qualified one is not retried', async () => {
    const { db, events } = tempDb();
    expect((await rejection(db('tr_never_created').select())).code).to.equal('42P01');
    expect(events.map((e) => e.cause)).to.deep.equal(['temp-relation']);
    const qualified = await rejection(db('public.tr_never_created').select());
    expect(qualified.code).to.equal('42P01');
    expect(qualified.message).to.match(/relation "public.tr_never_created" does not exist$/);
    // Not retried by this guard. The schema-lag guard retries any 42P01 from a replica that
    // is behind the primary at that moment (WAL of the tests before may still be replaying):
    // that one is allowed, with its own cause.
    expect(events.filter((e) => e.cause !== 'schema-lag').map((e) => e.cause)).to.deep.equal(['temp-relation']);
  });

  it('a write is never retried by this guard', async () => {
    const { db, events } = tempDb();
    await withTempTable(db, 'tr_write');
    await db('tr_write').insert({ id: 3 }); // a write: the primary, where the table is
    expect(events).to.deep.equal([]);
    expect((await db.raw('select count(*)::int as n from pg_temp.tr_write')).rows[0].n).to.equal(3);
  });
});
