import { expect } from 'chai';
import { Client } from 'pg';
import { Writable } from 'stream';
import type { RouteEvent } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';
import { until } from '../support/until';

// Every assertion about where a statement ran comes from the database itself
// (inet_server_port(), pg_is_in_recovery(), or a standby's refusal to write).
describe('routing on a real primary + 2 streaming replicas', () => {
  const cluster = () => getTestCluster();
  before(async () => {
    await cluster().query('primary', "drop table if exists rt_items; create table rt_items (id serial primary key, v int not null, note text); insert into rt_items (v, note) values (0, 'seed')");
    await cluster().waitForReplication();
  });
  after(destroyAll);

  it('sends a builder select to a replica', async () => {
    const db = makeDb();
    const rows = await db.select(db.raw(WHERE_AM_I));
    expect(rows[0].standby).to.equal(true);
    expect(nodeByPort(rows[0].port)).to.match(/^replica/);
  });

  it('spreads reads round-robin over both replicas', async () => {
    const db = makeDb();
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const [row] = await db.select(db.raw(WHERE_AM_I));
      seen.add(nodeByPort(row.port));
    }
    expect([...seen].sort()).to.deep.equal(['replica1', 'replica2']);
  });

  it('by default (least-busy) sends reads away from a replica busy with slow statements, while it is busy', async () => {
    const c = cluster();
    const db = makeDb();
    // replica1 is kept busy by three reads blocked on an advisory lock held on that standby
    // (advisory locks work in recovery): a state, not a duration.
    const holder = new Client({ connectionString: c.replicas[0]!.url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock(4242)');
      const blocked = [1, 2, 3].map(() => db.replica('replica1').select(db.raw('pg_advisory_xact_lock_shared(4242)')).then((rows) => rows));
      await until(() => db.stats().nodes.find((n) => n.name === 'replica1')!.inFlight, (n) => n === 3, 'three blocked reads on replica1');
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        const [row] = await db.select(db.raw(WHERE_AM_I));
        seen.push(nodeByPort(row.port));
      }
      expect(seen).to.deep.equal(Array(6).fill('replica2'));
      await holder.query('select pg_advisory_unlock(4242)');
      await Promise.all(blocked);
    } finally {
      await holder.end();
    }
    // Idle again: both take reads.
    const after = new Set<string>();
    for (let i = 0; i < 4; i++) after.add(nodeByPort((await db.select(db.raw(WHERE_AM_I)))[0].port));
    expect([...after].sort()).to.deep.equal(['replica1', 'replica2']);
  });

  it('honours weights: a weight-0 replica takes no routed reads', async () => {
    const c = cluster();
    const db = makeDb({ replicas: [{ name: 'replica1', connection: c.replicas[0]!.url, weight: 1 }, { name: 'replica2', connection: c.replicas[1]!.url, weight: 0 }] });
    for (let i = 0; i < 5; i++) {
      const [row] = await db.select(db.raw(WHERE_AM_I));
      expect(nodeByPort(row.port)).to.equal('replica1');
    }
  });

  it('sends first/pluck/count/raw selects to replicas', async () => {
    const db = makeDb();
    const first = await db.first(db.raw(WHERE_AM_I));
    expect(first.standby).to.equal(true);
    const plucked = await db.from(db.raw('(select pg_is_in_recovery() as standby) s')).pluck('standby');
    expect(plucked).to.deep.equal([true]);
    const raw = await db.raw(`select ${WHERE_AM_I}`);
    expect(raw.rows[0].standby).to.equal(true);
    const counted: Array<{ standby: boolean }> = await db('rt_items').count({ n: '*' }).select(db.raw('pg_is_in_recovery() as standby')).groupByRaw('2');
    expect(counted.every((r) => r.standby)).to.equal(true);
  });

  it('runs inserts, updates, deletes and upserts on the primary (a standby would refuse them)', async () => {
    const db = makeDb();
    const [ins] = await db('rt_items').insert({ v: 1 }).returning('id');
    await db('rt_items').insert({ id: ins.id, v: 2 }).onConflict('id').merge();
    await db('rt_items').insert({ id: ins.id, v: 3 }).onConflict('id').ignore();
    const n = await db('rt_items').where({ id: ins.id }).update({ v: 4 });
    expect(n).to.equal(1);
    const rows = await db.primary('rt_items').where({ id: ins.id });
    expect(rows[0].v).to.equal(4);
    expect(await db('rt_items').where({ id: ins.id }).del()).to.equal(1);
  });

  for (const lock of ['forUpdate', 'forShare', 'forNoKeyUpdate', 'forKeyShare'] as const) {
    it(`sends a select with ${lock} to the primary`, async () => {
      const db = makeDb();
      const [row] = await db('rt_items').select(db.raw(WHERE_AM_I))[lock]().skipLocked().limit(1);
      expect(row.standby).to.equal(false);
      expect(row.port).to.equal(cluster().primary.port);
    });
  }

  it('sends a builder CTE that contains a write to the primary', async () => {
    const db = makeDb();
    const rows = await db
      .with('ins', db('rt_items').insert({ v: 42 }).returning('id'))
      .select(db.raw(WHERE_AM_I))
      .from('ins');
    expect(rows[0].standby).to.equal(false);
  });

  it('sends raw writes and write functions to the primary', async () => {
    const db = makeDb();
    const r = await db.raw(`select nextval('rt_items_id_seq') as id, ${WHERE_AM_I}`);
    expect(r.rows[0].standby).to.equal(false);
    const w = await db.raw(`with x as (insert into rt_items (v) values (7) returning id) select ${WHERE_AM_I} from x`);
    expect(w.rows[0].standby).to.equal(false);
  });

  it('keeps the PostgreSQL builder methods (withMaterialized, updateFrom) and routes them', async () => {
    const db = makeDb();
    const rows = await db.withMaterialized('m', db('rt_items').select('id')).select(db.raw(WHERE_AM_I)).from('m').limit(1);
    expect(rows[0].standby).to.equal(true);
    const n = await db('rt_items').update({ note: 'from' }).updateFrom('rt_items as src').whereRaw('rt_items.id = src.id and src.note = ?', ['seed']);
    expect(n).to.be.at.least(1);
  });

  it('sends the schema builder and columnInfo to the primary', async () => {
    const db = makeDb();
    await db.schema.dropTableIfExists('rt_schema');
    await db.schema.createTable('rt_schema', (t) => { t.increments('id'); t.text('name'); });
    expect(await db.primary.schema.hasTable('rt_schema')).to.equal(true);
    const info = await db('rt_schema').columnInfo();
    expect(Object.keys(info)).to.include('name');
    await db.schema.dropTable('rt_schema');
  });

  it('pins a transaction to the primary; a read inside it sees the uncommitted write', async () => {
    const db = makeDb();
    await db.transaction(async (trx) => {
      const [row] = await trx('rt_items').insert({ v: 99, note: 'tx' }).returning('id');
      const seen = await trx('rt_items').where({ id: row.id }).select('v', trx.raw(WHERE_AM_I));
      expect(seen[0].v).to.equal(99);
      expect(seen[0].standby).to.equal(false);
      await trx.transaction(async (inner) => {
        const nested = await inner('rt_items').where({ id: row.id }).first();
        expect(nested.v).to.equal(99);
      });
      throw new Error('roll back');
    }).catch((e: Error) => expect(e.message).to.equal('roll back'));
    const after = await db.primary('rt_items').where({ note: 'tx' });
    expect(after).to.have.length(0);
  });

  it('supports the promise form, savepoints, transactionProvider and isolationLevel', async () => {
    const db = makeDb();
    const trx = await db.transaction({ isolationLevel: 'repeatable read' });
    const [{ transaction_isolation: iso }] = (await trx.raw('show transaction_isolation')).rows;
    expect(iso).to.equal('repeatable read');
    const sp = await trx.transaction();
    await sp('rt_items').insert({ v: 5, note: 'savepoint' });
    await sp.rollback();
    expect(await trx('rt_items').where({ note: 'savepoint' })).to.have.length(0);
    await trx.commit();
    const provider = db.transactionProvider();
    const t1 = await provider();
    const t2 = await provider();
    expect(t1).to.equal(t2);
    const [row] = await t1.select(t1.raw(WHERE_AM_I));
    expect(row.standby).to.equal(false);
    await t1.rollback();
  });

  it('runs { readOnly: true } transactions on one replica for their whole life', async () => {
    const db = makeDb();
    await db.transaction(async (trx) => {
      const a = await trx.select(trx.raw(WHERE_AM_I));
      const b = await trx.select(trx.raw(WHERE_AM_I));
      expect(a[0].standby).to.equal(true);
      expect(b[0].port).to.equal(a[0].port);
    }, { readOnly: true });
  });

  it('streams from a replica with .stream() and .pipe()', async () => {
    const db = makeDb();
    const rows: Array<{ standby: boolean; n: number }> = [];
    const stream = db.select(db.raw(`${WHERE_AM_I}, g as n`)).from(db.raw('generate_series(1, 50) g')).stream();
    for await (const row of stream) rows.push(row);
    expect(rows).to.have.length(50);
    expect(rows.every((r) => r.standby)).to.equal(true);
    const piped: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const sink = new Writable({ objectMode: true, write(chunk, _e, cb) { piped.push(chunk); cb(); } });
      sink.on('finish', resolve).on('error', reject);
      db.select(db.raw('g')).from(db.raw('generate_series(1, 10) g')).pipe(sink);
    });
    expect(piped).to.have.length(10);
  });

  it('ends a stream with an error when its connection dies mid-way, and frees the pool', async () => {
    const db = makeDb({ pool: { min: 0, max: 1 } });
    const stream = db.select(db.raw("pg_backend_pid() as pid, g, pg_sleep(0.005)")).from(db.raw('generate_series(1, 2000) g'))
      .queryContext({ splitKnex: { target: 'primary' } }).stream();
    let rows = 0;
    const err = await (async () => {
      for await (const row of stream) {
        if (rows++ === 0) await cluster().query('primary', 'select pg_terminate_backend($1)', [row.pid]);
      }
    })().then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/terminat|ended while streaming/);
    expect(rows).to.be.greaterThan(0).and.lessThan(2000);
    // The one pooled connection is free again: the next query does not wait for it.
    const [row] = await db.primary.select(db.raw(WHERE_AM_I));
    expect(row.standby).to.equal(false);
  });

  it('runs migrations and seeds on the primary, with the lock table', async function () {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-mig-'));
    fs.writeFileSync(path.join(dir, '001_create.js'), `
      exports.up = (knex) => knex.schema.createTable('rt_migrated', (t) => { t.increments('id'); t.text('name'); });
      exports.down = (knex) => knex.schema.dropTable('rt_migrated');`);
    const seeds = fs.mkdtempSync(path.join(os.tmpdir(), 'split-knex-seed-'));
    fs.writeFileSync(path.join(seeds, 'a.js'), `exports.seed = (knex) => knex('rt_migrated').insert([{ name: 'a' }, { name: 'b' }]);`);
    const db = makeDb({ migrations: { directory: dir, tableName: 'rt_migrations' }, seeds: { directory: seeds } });
    try {
      const [, done] = await db.migrate.latest();
      expect(done).to.have.length(1);
      await db.seed.run();
      expect(await db.primary('rt_migrated').count({ n: '*' })).to.deep.equal([{ n: '2' }]);
      expect(await db.primary.schema.hasTable('rt_migrations_lock')).to.equal(true);
      await db.migrate.rollback();
      expect(await db.primary.schema.hasTable('rt_migrated')).to.equal(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(seeds, { recursive: true, force: true });
    }
  });

  it('runs batchInsert on the primary', async () => {
    const db = makeDb();
    await db.batchInsert('rt_items', Array.from({ length: 25 }, (_, i) => ({ v: i, note: 'batch' })), 10);
    expect(await db.primary('rt_items').where({ note: 'batch' }).count({ n: '*' })).to.deep.equal([{ n: '25' }]);
  });

  describe('escape hatches', () => {
    it('db.primary runs reads on the primary', async () => {
      const db = makeDb();
      const [row] = await db.primary.select(db.raw(WHERE_AM_I));
      expect(row.standby).to.equal(false);
    });

    it('db.replica(name) runs on that replica, db.replica() on any replica', async () => {
      const db = makeDb();
      const [row] = await db.replica('replica2').select(db.raw(WHERE_AM_I));
      expect(nodeByPort(row.port)).to.equal('replica2');
      const [any] = await db.replica().select(db.raw(WHERE_AM_I));
      expect(any.standby).to.equal(true);
      expect(() => db.replica('nope')).to.throw(/no replica named "nope"/);
    });

    it('a statement classified as a write that ran on a replica changes nothing about the primary: later reads still go to replicas', async () => {
      const db = makeDb();
      const [row] = await db.replica('replica1').select(db.raw(`pg_advisory_xact_lock_shared(4243), ${WHERE_AM_I}`));
      expect(nodeByPort(row.port)).to.equal('replica1');
      await db.replica('replica2').raw("select set_config('application_name', 'x', false)");
      for (let i = 0; i < 4; i++) {
        const [r] = await db.select(db.raw(WHERE_AM_I));
        expect(r.standby, 'a read after it').to.equal(true);
      }
      expect(db.stats().consistency.pendingPrimaryReads + db.stats().consistency.stickyPrimaryReads).to.equal(0);
    });

    it('usePrimary() sends every query in its async scope to the primary, and only there', async () => {
      const db = makeDb();
      const inside = db.usePrimary(async () => {
        await new Promise((r) => setTimeout(r, 5));
        const [row] = await db.select(db.raw(WHERE_AM_I));
        return row.standby;
      });
      const [outside] = await db.select(db.raw(WHERE_AM_I));
      expect(await inside).to.equal(false);
      expect(outside.standby).to.equal(true);
    });

    it('queryContext({ splitKnex: { target } }) routes one query', async () => {
      const db = makeDb();
      const [p] = await db.select(db.raw(WHERE_AM_I)).queryContext({ splitKnex: { target: 'primary' } });
      expect(p.standby).to.equal(false);
      const r = await db.raw(`select ${WHERE_AM_I}, now()`).queryContext({ splitKnex: { target: 'replica' } });
      expect(r.rows[0].standby).to.equal(true);
    });
  });

  describe('misroute guard', () => {
    it('retries a statement a replica refused (25006) once on the primary, counts it and emits misroute', async () => {
      const db = makeDb();
      const events: unknown[] = [];
      db.on('misroute', (e) => events.push(e));
      // The user vouches that this raw SQL reads; the standby disagrees.
      const r = await db.raw(`insert into rt_items (v, note) values (1, 'misroute') returning ${WHERE_AM_I}`)
        .queryContext({ splitKnex: { target: 'replica' } });
      expect(r.rows[0].standby).to.equal(false);
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ code: '25006', retried: true });
      expect(db.stats().misroutes).to.equal(1);
      expect(await db.primary('rt_items').where({ note: 'misroute' })).to.have.length(1);
    });

    it('does not retry inside a transaction: the error reaches the caller', async () => {
      const db = makeDb();
      const err = await db.transaction(async (trx) => {
        await trx.raw('select 1');
        return trx.raw("insert into rt_items (v) values (1)");
      }, { readOnly: true }).then(() => undefined, (e: { code?: string }) => e);
      expect(err?.code).to.equal('25006');
    });
  });

  describe('events and stats', () => {
    it('emits route events and re-emits knex events with the node', async () => {
      const db = makeDb();
      const routes: RouteEvent[] = [];
      const queries: Array<{ sql: string; splitKnex?: { node: string; role: string } }> = [];
      const responses: unknown[] = [];
      db.on('route', (e) => routes.push(e));
      db.on('query', (q) => queries.push(q));
      db.on('query-response', (res) => responses.push(res));
      let started = 0;
      db.on('start', () => started++);
      await db('rt_items').select('id').limit(1);
      await db('rt_items').insert({ v: 3 });
      expect(routes.map((r) => [r.role, r.access])).to.deep.equal([['replica', 'read'], ['primary', 'write']]);
      expect(routes[0]!.reason).to.equal('read (select)');
      expect(queries[0]!.splitKnex!.role).to.equal('replica');
      expect(queries[1]!.splitKnex).to.deep.include({ node: 'primary', role: 'primary' });
      expect(responses).to.have.length(2);
      expect(started).to.equal(2);
    });

    it('emits query-error with the node and passes the database error through unchanged', async () => {
      const db = makeDb();
      const errors: Array<{ splitKnex?: { node: string } }> = [];
      db.on('query-error', (_e, obj) => errors.push(obj));
      const err = await db('no_such_table').select('*').then(() => undefined, (e: { code?: string; message: string }) => e);
      expect(err?.code).to.equal('42P01');
      expect(err?.message).to.match(/select \* from "no_such_table" - relation "no_such_table" does not exist/);
      expect(errors[0]!.splitKnex!.node).to.match(/^replica/);
    });

    it('counts queries per node and per role in stats()', async () => {
      const db = makeDb();
      await db.select(db.raw('1'));
      await db.select(db.raw('1'));
      await db('rt_items').insert({ v: 1 });
      const s = db.stats();
      expect(s.totals.replica.reads).to.equal(2);
      expect(s.totals.primary.writes).to.equal(1);
      expect(s.nodes.map((n) => n.name)).to.deep.equal(['primary', 'replica1', 'replica2']);
      expect(JSON.stringify(s)).not.to.include('postgres://');
    });
  });

  describe('knex behaviour kept', () => {
    it('applies postProcessResponse and wrapIdentifier, also when changed at runtime', async () => {
      const db = makeDb();
      await db('rt_items').insert({ v: 11, note: 'hooks' });
      await cluster().waitForReplication();
      db.client.config.postProcessResponse = (rows: unknown) => (Array.isArray(rows) ? rows.map((r) => ({ ...r, post: true })) : rows);
      db.client.config.wrapIdentifier = (value: string, orig: (v: string) => string) => orig(value === 'value' ? 'v' : value);
      const rows = await db('rt_items').where({ note: 'hooks' }).select('value');
      expect(rows[0]).to.deep.equal({ v: 11, post: true });
      const [primaryRow] = await db.primary('rt_items').where({ note: 'hooks' }).select('value');
      expect(primaryRow.post).to.equal(true);
    });

    it('keeps withUserParams, ref, fn and QueryBuilder.extend working', async () => {
      const db = makeDb();
      const withParams = db.withUserParams({ tenant: 't1' });
      expect(withParams.userParams).to.deep.equal({ tenant: 't1' });
      const [row] = await withParams.select(withParams.raw(WHERE_AM_I));
      expect(row.standby).to.equal(true);
      const [ts] = await db.select({ now: db.fn.now() }, db.ref('x.one').as('one')).from(db.raw('(select 1 as one) x'));
      expect(ts.one).to.equal(1);
    });

    it('cancels a timed-out replica query on the replica it runs on', async () => {
      const db = makeDb();
      const err = await db.raw("select pg_sleep(5), 'cancel-me' as tag").timeout(300, { cancel: true })
        .then(() => undefined, (e: Error) => e);
      expect(err?.name).to.equal('KnexTimeoutError');
      // The replica it ran on no longer runs it.
      for (const r of cluster().replicas) {
        const active = await cluster().query(r.name, "select count(*)::int as n from pg_stat_activity where state = 'active' and query like '%cancel-me%' and pid <> pg_backend_pid()");
        expect(active[0].n).to.equal(0);
      }
    });

    it('destroy() then initialize() brings every pool back', async () => {
      const db = makeDb();
      await db.select(db.raw('1'));
      await db.destroy();
      db.initialize();
      const [row] = await db.select(db.raw(WHERE_AM_I));
      expect(row.standby).to.equal(true);
      await db('rt_items').insert({ v: 1 });
    });

    it('with no replicas configured, runs everything on the primary', async () => {
      const db = makeDb({ replicas: [] });
      const [row] = await db.select(db.raw(WHERE_AM_I));
      expect(row.standby).to.equal(false);
      expect(db.stats().primaryReads).to.deep.equal({});
    });
  });
});
