import { expect } from 'chai';
import { Client } from 'pg';
import type { CatalogStats, MisrouteEvent, RouteEvent, SplitKnex, SplitKnexConfig } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { pollUntil } from '../support/cluster/poll';
import { destroyAll, makeDb, WHERE_AM_I } from '../support/split-db';

const W = WHERE_AM_I;
const SEARCH_PATH = ['public', 'cat_tools'];

// The schema of the issue: functions of every volatility, an overloaded name, a function
// reached through search_path, unlogged relations (and what reaches them) and regular ones.
const SCHEMA = `
drop schema if exists cat_tools cascade;
drop view if exists cat_sessions_v;
drop table if exists cat_audit, cat_items, cat_sessions, cat_events, cat_flip, cat_flip_tx, cat_back_t cascade;
drop function if exists cat_audit_write(text), cat_count_items(), cat_price(int), cat_slug(text), cat_mixed(int), cat_mixed(text),
  cat_liar(), cat_ddl_flip(), cat_ddl_new(), cat_back(), cat_back_i();
create table cat_audit (id serial primary key, note text not null);
create table cat_items (id int primary key, price int not null);
insert into cat_items values (1, 10), (2, 20);
create unlogged table cat_sessions (id int primary key, token text);
insert into cat_sessions values (1, 'secret');
create view cat_sessions_v as select * from cat_sessions;
create table cat_events (id int, k int) partition by list (k);
create table cat_events_1 partition of cat_events for values in (1);
create unlogged table cat_events_2 partition of cat_events for values in (2);
create table cat_flip (id int primary key);
insert into cat_flip values (1);
create table cat_flip_tx (id int primary key);
insert into cat_flip_tx values (1);
create table cat_back_t (id int primary key);
insert into cat_back_t values (1);
create function cat_audit_write(p_note text) returns int volatile language plpgsql
  as $$ begin insert into cat_audit (note) values (p_note); return 1; end $$;
create function cat_count_items() returns bigint volatile language sql as $$ select count(*) from cat_items $$;
create function cat_price(p_id int) returns int stable language sql as $$ select price from cat_items where id = p_id $$;
create function cat_slug(t text) returns text immutable language sql as $$ select lower(replace(t, ' ', '-')) $$;
create function cat_mixed(x int) returns int immutable language sql as $$ select x $$;
create function cat_mixed(x text) returns int volatile language plpgsql
  as $$ begin insert into cat_audit (note) values (x); return 1; end $$;
create function cat_liar() returns int stable language plpgsql as $$ begin return cat_audit_write('liar'); end $$;
create function cat_ddl_flip() returns int stable language sql as $$ select 1 $$;
create function cat_back() returns int stable language sql as $$ select 2 $$;
create schema cat_tools;
create function cat_tools.cat_double(x int) returns int immutable language sql as $$ select x * 2 $$;
create function cat_tools.cat_stamp(x text) returns int volatile language plpgsql
  as $$ begin insert into public.cat_audit (note) values (x); return 1; end $$;
`;

interface Case {
  sql: string;
  /** Calls a user function: without the catalog, it goes to the primary. */
  fn: boolean;
  /** The standby accepts it but we send it to the primary anyway, and why. */
  conservative?: string;
}

const CASES: Case[] = [
  { sql: `select cat_audit_write('cat-test') as v, ${W}`, fn: true },
  { sql: `select cat_count_items() as v, ${W}`, fn: true, conservative: 'VOLATILE (it only reads, but volatile means the primary)' },
  { sql: `select cat_price(1) as v, ${W}`, fn: true },
  { sql: `select cat_slug('Hello World') as v, ${W}`, fn: true },
  { sql: `select id, cat_price(id) as v, ${W} from cat_items`, fn: true },
  { sql: `select cat_mixed(1) as v, ${W}`, fn: true, conservative: 'overloaded with a VOLATILE variant (argument types are not known from the text)' },
  { sql: `select cat_mixed('x'::text) as v, ${W}`, fn: true },
  { sql: `select cat_double(21) as v, ${W}`, fn: true },
  { sql: `select cat_tools.cat_double(21) as v, ${W}`, fn: true },
  { sql: `select cat_stamp('stamp') as v, ${W}`, fn: true },
  { sql: `select id, ${W} from cat_items`, fn: false },
  { sql: `select s.id, ${W} from cat_sessions s`, fn: false },
  { sql: `select (select count(*) from cat_sessions where false) as n, ${W}`, fn: false },
  { sql: `select i.id, ${W} from cat_items i join cat_sessions s using (id)`, fn: false },
  { sql: `select (select count(*) from cat_sessions_v) as n, ${W}`, fn: false },
  { sql: `select (select count(*) from cat_events) as n, ${W}`, fn: false },
  { sql: `select (select count(*) from cat_events_1) as n, ${W}`, fn: false },
];

// A standby refuses what it cannot do with one of these; anything else is a broken case.
function refusedByStandby(err: { code?: string; message?: string }): boolean {
  return err.code === '25006' || /recovery|read-only/i.test(err.message ?? '');
}

function catalogOf(db: SplitKnex): CatalogStats {
  return db.stats().catalog as CatalogStats;
}

async function readyDb(extra: Partial<SplitKnexConfig> = {}): Promise<SplitKnex> {
  const db = makeDb({ sticky: { mode: 'none' }, searchPath: SEARCH_PATH, ...extra });
  await db.raw('select 1'); // the first load begins once the first statement completed
  await db.ready();
  await pollUntil(async () => catalogOf(db).state === 'ready', { timeoutMs: 20_000, what: 'the catalog to load' });
  return db;
}

/** Runs `sql` through `db`; where it ran per the database, and why per the route event. */
async function where(db: SplitKnex, sql: string): Promise<{ on: 'primary' | 'replica'; reason: string }> {
  let reason = '';
  const listener = (e: RouteEvent) => { if (e.sql === sql) reason = e.reason; };
  db.on('route', listener);
  try {
    const res = await db.raw(sql);
    const row = res.rows[0] as { standby: boolean };
    return { on: row.standby ? 'replica' : 'primary', reason };
  } finally {
    db.off('route', listener);
  }
}


describe('catalog-aware routing on a real primary + streaming replicas', function () {
  this.timeout(90_000);
  const cluster = () => getTestCluster();
  let standby: Client;
  /** Whether the standby accepts each case, by SQL: the ground truth. */
  const accepted = new Map<string, boolean>();

  async function standbyAccepts(sql: string): Promise<boolean> {
    await standby.query('BEGIN');
    try {
      await standby.query(sql);
      return true;
    } catch (e) {
      if (refusedByStandby(e as { code?: string })) return false;
      throw e;
    } finally {
      await standby.query('ROLLBACK');
    }
  }

  before(async () => {
    await cluster().query('primary', SCHEMA);
    await cluster().waitForReplication();
    standby = new Client({ connectionString: cluster().replicas[0]!.url });
    await standby.connect();
    // The sessions split-knex opens get knex's searchPath; the ground truth uses the same.
    await standby.query(`set search_path to ${SEARCH_PATH.join(', ')}`);
    expect((await standby.query('select pg_is_in_recovery() as r')).rows[0].r).to.equal(true);
    for (const c of CASES) accepted.set(c.sql, await standbyAccepts(c.sql));
  });

  after(async () => {
    await destroyAll();
    await standby?.end();
    await cluster().query('primary', 'drop schema if exists cat_tools cascade; drop view if exists cat_sessions_v; drop table if exists cat_sessions, cat_events, cat_flip, cat_flip_tx, cat_back_t cascade');
  });

  it('routes every statement of the set as the standby decides (catalog: auto)', async () => {
    const db = await readyDb();
    const lines: string[] = [];
    for (const c of CASES) {
      const ok = accepted.get(c.sql)!;
      const expected = ok && c.conservative === undefined ? 'replica' : 'primary';
      const got = await where(db, c.sql);
      lines.push(`  ${ok ? 'standby accepts' : 'standby refuses'} -> ${got.on.padEnd(7)} ${c.sql.replace(`, ${W}`, '')}${c.conservative ? `  [conservative: ${c.conservative}]` : ''}`);
      expect(got.on, `${c.sql} (${got.reason})`).to.equal(expected);
      if (!ok) expect(got.reason, c.sql).to.not.include('misroute');
    }
    console.log(`[figures] catalog auto routing:\n${lines.join('\n')}`);
    // The catalog routed the refused ones right the first time: no replica refused anything.
    const stats = db.stats();
    expect(stats.misroutes).to.equal(0);
    const cat = catalogOf(db);
    expect(cat.routes.replica).to.be.greaterThan(0);
    expect(cat.routes.primary).to.be.greaterThan(0);
    expect(cat.unloggedRelations).to.be.at.least(4); // cat_sessions, its view, cat_events_2 and its parent
    expect(cat.searchPath).to.include.members(['pg_catalog', 'public', 'cat_tools']);
    // The volatile function that writes did write, on the primary.
    const audit = await cluster().query('primary', "select count(*)::int as n from cat_audit where note in ('cat-test', 'stamp', 'x')");
    expect(audit[0].n).to.be.at.least(3);
    console.log(`[figures] catalog: load ${cat.loadMs} ms, ${cat.functions} functions, ${cat.unloggedRelations} unlogged relations, routes decided ${JSON.stringify(cat.routes)}`);
  });

  it('keeps the same statements safe with catalog: false (function calls and refused reads end on the primary)', async () => {
    const db = makeDb({ sticky: { mode: 'none' }, searchPath: SEARCH_PATH, catalog: false });
    let retried = 0;
    for (const c of CASES) {
      const ok = accepted.get(c.sql)!;
      const got = await where(db, c.sql);
      expect(got.on, `${c.sql} (${got.reason})`).to.equal(c.fn || !ok ? 'primary' : 'replica');
      if (!ok && !c.fn) retried++;
    }
    // Without the catalog the unlogged reads reach a replica first; the misroute guard retries them.
    expect(db.stats().misroutes).to.equal(retried);
    expect(catalogOf(db).state).to.equal('off');
    console.log(`[figures] catalog false: ${retried} unlogged reads refused by a replica and retried on the primary (0 with catalog auto)`);
  });

  it('builders route by the catalog too', async () => {
    const db = await readyDb();
    const priced = await db('cat_items').select('id', db.raw('cat_price(id) as v'), db.raw(W)).orderBy('id');
    expect(priced.map((r: { v: number }) => r.v)).to.deep.equal([10, 20]);
    expect(priced.every((r: { standby: boolean }) => r.standby)).to.equal(true);
    const sessions = await db('cat_sessions').select('id', db.raw(W));
    expect(sessions).to.have.length(1);
    expect(sessions[0].standby).to.equal(false);
  });

  it('retries on the primary a function declared STABLE that writes anyway (25006 misroute guard)', async () => {
    expect(await standbyAccepts(`select cat_liar() as v, ${W}`)).to.equal(false);
    const db = await readyDb();
    const misroutes: MisrouteEvent[] = [];
    db.on('misroute', (e: MisrouteEvent) => misroutes.push(e));
    const before = (await cluster().query('primary', "select count(*)::int as n from cat_audit where note = 'liar'"))[0].n;
    const got = await where(db, `select cat_liar() as v, ${W}`);
    expect(got.on).to.equal('primary');
    expect(misroutes).to.have.length(1);
    expect(misroutes[0]).to.deep.include({ code: '25006', retried: true });
    expect(db.stats().misroutes).to.equal(1);
    const afterCount = (await cluster().query('primary', "select count(*)::int as n from cat_audit where note = 'liar'"))[0].n;
    expect(afterCount).to.equal(before + 1);
  });

  it('reflects DDL sent through split-knex before the next query (new/changed VOLATILE function, table flipped to UNLOGGED)', async () => {
    const db = await readyDb();
    // A new function: known as VOLATILE at once, not merely "unknown".
    await db.raw(`create function cat_ddl_new() returns int volatile language plpgsql
      as $$ begin insert into cat_audit (note) values ('ddl-new'); return 1; end $$`);
    const created = await where(db, `select cat_ddl_new() as v, ${W}`);
    expect(created).to.deep.equal({ on: 'primary', reason: 'volatile function cat_ddl_new' });

    // A STABLE function made VOLATILE.
    expect((await where(db, `select cat_ddl_flip() as v, ${W}`)).on).to.equal('replica');
    await db.raw('alter function cat_ddl_flip() volatile');
    expect(await where(db, `select cat_ddl_flip() as v, ${W}`)).to.deep.equal({ on: 'primary', reason: 'volatile function cat_ddl_flip' });

    // Back to STABLE through db.primary: replicas again.
    await db.primary.raw('alter function cat_ddl_flip() stable');
    expect((await where(db, `select cat_ddl_flip() as v, ${W}`)).on).to.equal('replica');

    // A regular table flipped to UNLOGGED: db.raw, a transaction, the schema builder.
    expect((await where(db, `select id, ${W} from cat_flip`)).on).to.equal('replica');
    await db.raw('alter table cat_flip set unlogged');
    const flipped = await where(db, `select id, ${W} from cat_flip`);
    expect(flipped.on).to.equal('primary');
    expect(flipped.reason).to.include('unlogged');
    expect((await where(db, `select id, ${W} from cat_flip_tx`)).on).to.equal('replica');
    await db.transaction(async (trx) => {
      await trx.raw('alter table cat_flip_tx set unlogged');
    });
    expect((await where(db, `select id, ${W} from cat_flip_tx`)).on).to.equal('primary');
    expect((await where(db, `select id, ${W} from cat_back_t`)).on).to.equal('replica');
    await db.schema.raw('alter table cat_back_t set unlogged');
    expect((await where(db, `select id, ${W} from cat_back_t`)).on).to.equal('primary');
    await db.schema.raw('alter table cat_back_t set logged');
    expect(db.stats().misroutes).to.equal(0);

    // And back to LOGGED: replicas again once they have replayed it.
    await db.raw('alter table cat_flip set logged');
    await cluster().waitForReplication();
    expect((await where(db, `select id, ${W} from cat_flip`)).on).to.equal('replica');
  });

  it('reloads on the DDL\'s own connection: a pool of one connection does not wait for itself', async () => {
    // A reload that waited for a pooled connection would fail these statements with knex's
    // acquire timeout: the pool's one connection is the DDL's own, still held.
    const db = await readyDb({ pool: { min: 0, max: 1, acquireTimeoutMillis: 3000 } });
    await db.raw('alter function cat_ddl_flip() volatile');
    await db.transaction(async (trx) => { await trx.raw('alter function cat_ddl_flip() stable'); });
    await db.raw('alter function cat_ddl_flip() volatile');
    expect(await where(db, `select cat_ddl_flip() as v, ${W}`)).to.deep.equal({ on: 'primary', reason: 'volatile function cat_ddl_flip' });
    await db.raw('alter function cat_ddl_flip() stable');
  });

  it('picks up DDL made behind its back with refreshCatalog() and with the refresh interval', async () => {
    await cluster().query('primary', 'alter function cat_back() stable; alter table cat_flip set logged');
    await cluster().waitForReplication();
    const manual = await readyDb({ catalog: { refreshMs: 0 } });
    const timed = await readyDb({ catalog: { refreshMs: 200 } });
    expect((await where(manual, `select cat_back() as v, ${W}`)).on).to.equal('replica');

    await cluster().query('primary', 'alter function cat_back() volatile');
    // Not seen yet: split-knex did not send it and this instance has no interval.
    expect((await where(manual, `select cat_back() as v, ${W}`)).on).to.equal('replica');
    await manual.refreshCatalog();
    expect(await where(manual, `select cat_back() as v, ${W}`)).to.deep.equal({ on: 'primary', reason: 'volatile function cat_back' });

    // A table made UNLOGGED behind its back: the first read is refused by the standby and
    // retried on the primary; that refusal makes the catalog reload in the background, so
    // the next reads go straight to the primary.
    await cluster().query('primary', 'alter table cat_flip set unlogged');
    await cluster().waitForReplication();
    const before = catalogOf(manual).version;
    expect((await where(manual, `select id, ${W} from cat_flip`)).on).to.equal('primary');
    expect(manual.stats().misroutes).to.equal(1);
    await pollUntil(async () => catalogOf(manual).version > before, { timeoutMs: 15_000, what: 'the reload after a misroute' });
    const direct = await where(manual, `select id, ${W} from cat_flip`);
    expect(direct.on).to.equal('primary');
    expect(direct.reason).to.include('unlogged');
    expect(manual.stats().misroutes).to.equal(1);
    await cluster().query('primary', 'alter table cat_flip set logged');

    // Let the interval catch up with the changes above first (two loads: one of them began
    // after the last change), so the next version can only come from the change below.
    const loads = catalogOf(timed).loads;
    await pollUntil(async () => catalogOf(timed).loads >= loads + 2, { timeoutMs: 15_000, what: 'two interval loads' });
    const version = catalogOf(timed).version;
    await cluster().query('primary', 'alter table cat_back_t set unlogged');
    await pollUntil(async () => catalogOf(timed).version > version, { timeoutMs: 15_000, what: 'the interval refresh to see the change' });
    const got = await where(timed, `select id, ${W} from cat_back_t`);
    expect(got.on).to.equal('primary');
    expect(got.reason).to.include('unlogged');
    expect(timed.stats().misroutes).to.equal(0);
  });

  it('knows a sequence created through split-knex before the next query, and reads its state from the primary', async () => {
    const db = await readyDb();
    try {
      // The `--` inside the string once hid the CREATE from the DDL regex (it stripped comments first).
      await db.raw("select '--' as c; create sequence cat_ticket_no");
      await db.raw("select nextval('cat_ticket_no') from generate_series(1, 3)");
      await cluster().waitForReplication();
      const res = await db.raw(`select last_value, ${W} from cat_ticket_no`);
      expect(res.rows[0]).to.deep.include({ last_value: '3', standby: false });
      expect((await where(db, `select last_value, ${W} from cat_ticket_no`)).reason).to.equal(
        "sequence cat_ticket_no: a standby's sequence state is ahead of the primary",
      );
      // The same string trick before an unlogged table: reloaded at once, so no replica refuses it.
      await db.raw("select '/*' as c; create unlogged table cat_ddl_u (id int); select '*/' as d");
      expect((await where(db, `select (select count(*) from cat_ddl_u) as n, ${W}`)).on).to.equal('primary');
      expect(db.stats().misroutes).to.equal(0);
    } finally {
      await cluster().query('primary', 'drop sequence if exists cat_ticket_no; drop table if exists cat_ddl_u');
    }
  });

  it('adds no wait to the first query: it runs while the catalog is still loading', async () => {
    const c = cluster();
    // The primary's connection settings take 3 s to come (a slow credentials provider): the
    // catalog's load, on the primary's background connection, waits for them; reads do not.
    const slowPrimary = () => new Promise<{ connectionString: string }>((resolve) => setTimeout(() => resolve({ connectionString: c.primary.url }), 3000));
    const db = makeDb({ sticky: { mode: 'none' }, connection: slowPrimary });
    const [row] = (await db.raw(`select ${W}`)).rows;
    expect(row.standby).to.equal(true);
    expect(catalogOf(db).state).to.equal('loading');
    // The load has begun now (it waits for its connection); reads still do not wait for it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [again] = (await db.raw(`select ${W}`)).rows;
    expect(again.standby).to.equal(true);
    expect(catalogOf(db).state).to.equal('loading');
    await pollUntil(async () => catalogOf(db).state === 'ready', { timeoutMs: 20_000, what: 'the slow catalog load' });
  });
});
