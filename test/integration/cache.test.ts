import { expect } from 'chai';
import type { CacheEvent, CacheStats, SplitKnex, SplitKnexConfig } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb } from '../support/split-db';

// Every "served from the cache" claim is proven with the database: the data is changed
// behind split-knex's back (a plain connection to the primary, which the cache cannot see)
// and the cached read still returns the old value while the replica already has the new one.
const cacheOf = (db: SplitKnex): CacheStats => db.stats().cache as CacheStats;
const replicaReads = (db: SplitKnex): number => db.stats().totals.replica.reads;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A splitKnex on the shared cluster with a cache, ready (relation catalog loaded). */
export async function cachedDb(cache: Record<string, unknown>, extra: Partial<SplitKnexConfig> = {}): Promise<SplitKnex> {
  const db = makeDb({ cache: { max: 1000, ttlMs: 60_000, ...cache }, ...extra });
  await db.ready();
  await until(() => cacheOf(db).catalog.ready, 'the relation catalog');
  return db;
}

/** Changes data without split-knex knowing, and waits until the replicas have it. */
async function behindTheBack(sql: string): Promise<void> {
  await getTestCluster().query('primary', sql);
  await getTestCluster().waitForReplication();
}

function skips(db: SplitKnex): string[] {
  const reasons: string[] = [];
  db.on('cache', (e: CacheEvent) => {
    if (e.outcome === 'skip') reasons.push(e.reason ?? '');
  });
  return reasons;
}

describe('result cache on a real primary + 2 streaming replicas', () => {
  before(async () => {
    await getTestCluster().query('primary', `
      drop table if exists ca_comments, ca_posts, ca_users, ca_plans, ca_audited, ca_audit_log, ca_events, ca_tx cascade;
      drop view if exists ca_user_posts;
      create table ca_users (id int primary key, name text not null);
      create table ca_posts (id int primary key, user_id int references ca_users on delete cascade, title text);
      create table ca_comments (id int primary key, post_id int references ca_posts on delete cascade, body text);
      create view ca_user_posts as select u.name, p.title from ca_users u join ca_posts p on p.user_id = u.id;
      create table ca_plans (id int primary key, price int not null);
      create table ca_audited (id int primary key, v int);
      create table ca_audit_log (id serial primary key, note text);
      create function ca_log() returns trigger language plpgsql as $$ begin insert into ca_audit_log (note) values ('x'); return new; end $$;
      create trigger ca_audited_log after update on ca_audited for each row execute function ca_log();
      create table ca_events (id int, at date) partition by range (at);
      create table ca_events_2024 partition of ca_events for values from ('2024-01-01') to ('2025-01-01');
      create table ca_tx (id int primary key, v int);
      insert into ca_users values (1, 'ada'), (2, 'bob');
      insert into ca_posts values (10, 1, 'hello'), (20, 2, 'bye');
      insert into ca_comments values (100, 10, 'nice');
      insert into ca_plans values (1, 10), (2, 20);
      insert into ca_audited values (1, 0);
      insert into ca_events values (1, '2024-05-01');
      insert into ca_tx values (1, 0);`);
    await getTestCluster().waitForReplication();
  });
  after(destroyAll);

  it('answers a repeated .cache() read from memory: the replica is not asked, its newer data is not seen', async () => {
    const db = await cachedDb({ strategy: 'explicit' });
    const first = await db('ca_plans').where({ id: 1 }).first().cache();
    const reads = replicaReads(db);
    await behindTheBack('update ca_plans set price = 11 where id = 1');
    const second = await db('ca_plans').where({ id: 1 }).first().cache();
    expect(second).to.deep.equal(first).and.deep.equal({ id: 1, price: 10 });
    expect(replicaReads(db)).to.equal(reads);
    // Without .cache() the same read goes to a replica, which has the new price.
    expect(await db('ca_plans').where({ id: 1 }).first()).to.deep.equal({ id: 1, price: 11 });
    expect(cacheOf(db)).to.deep.include({ hits: 1, misses: 1, stores: 1 });
    await db.invalidateCache(['ca_plans']);
    expect(await db('ca_plans').where({ id: 1 }).first().cache()).to.deep.equal({ id: 1, price: 11 });
  });

  it("strategy 'all' caches every cacheable read; .noCache() opts out", async () => {
    const db = await cachedDb({ strategy: 'all' });
    await db('ca_plans').where({ id: 2 });
    await behindTheBack('update ca_plans set price = 21 where id = 2');
    expect(await db('ca_plans').where({ id: 2 })).to.deep.equal([{ id: 2, price: 20 }]);
    expect(await db('ca_plans').where({ id: 2 }).noCache()).to.deep.equal([{ id: 2, price: 21 }]);
    expect((await db.raw('select price from ca_plans where id = ?', [2])).rows).to.deep.equal([{ price: 21 }]);
  });

  it('hands every caller its own copy: mutating a result never reaches the cache', async () => {
    const db = await cachedDb({ strategy: 'all' });
    const a = await db('ca_users').orderBy('id');
    a[0].name = 'mutated';
    a.push({ id: 99 });
    const b = await db('ca_users').orderBy('id');
    expect(b).to.deep.equal([{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }]);
    b[0].name = 'again';
    expect((await db('ca_users').orderBy('id'))[0].name).to.equal('ada');
  });

  it('never caches reads on the primary, hinted, locking, volatile, unknown-function, in-transaction or oversized', async () => {
    const db = await cachedDb({ strategy: 'all', maxResultBytes: 2000 });
    const reasons = skips(db);
    const before = cacheOf(db).stores;
    await db.usePrimary(() => db('ca_plans'));
    await db('ca_plans').queryContext({ splitKnex: { target: 'primary' } });
    await db('ca_plans').select(db.raw('now() as at'));
    await db.raw("select count(*) from ca_plans where now() > 'yesterday'::timestamptz");
    await db.raw("select count(*) from ca_plans where ?::timestamptz < '2100-01-01'", ['now']);
    await db.transaction(async (trx) => {
      await trx('ca_plans');
      await trx('ca_plans');
    });
    await db.select(db.raw('repeat(?, 5000) as big', ['x']));
    // Row locks and unknown functions are writes for the router: they never even reach the cache.
    const routes: string[] = [];
    db.on('route', (e) => routes.push(`${e.role}:${e.reason}`));
    await db('ca_plans').forUpdate();
    await db.raw('select ca_log_unknown_fn()').catch(() => undefined);
    expect(routes[0]).to.match(/^primary:row lock/);
    expect(routes[1]).to.match(/^primary:unknown function/);
    expect(reasons).to.include.members([
      'routed to the primary', 'function now() changes between calls', "the literal 'yesterday' reads the clock",
      'a binding reads the clock',
    ]);
    expect(cacheOf(db).tooLarge).to.equal(1);
    expect(cacheOf(db).stores).to.equal(before);
  });

  it('a write invalidates the entries of the tables it wrote, and only those', async () => {
    const db = await cachedDb({ strategy: 'all' });
    await db('ca_plans').where({ id: 1 });
    // Stored once its replica is known to have replayed the last invalidation of ca_users
    // (a replay poll may be on its way): read until the entry answers.
    await until(async () => {
      const hits = cacheOf(db).hits;
      await db('ca_users').where({ id: 1 });
      return cacheOf(db).hits > hits;
    }, 'the ca_users entry stored');
    const changed = await db('ca_plans').where({ id: 1 }).update({ price: 12 }).returning('price');
    expect(changed).to.deep.equal([{ price: 12 }]);
    await behindTheBack("update ca_users set name = 'ada2' where id = 1");
    expect(await db('ca_plans').where({ id: 1 })).to.deep.equal([{ id: 1, price: 12 }]);
    // Right after a write, reads of this instance may still go to the primary (read-your-writes),
    // and reads on the primary skip the cache. Read until the cache answers: a surviving entry
    // answers 'ada'; an invalidated one would have been stored again as 'ada2'.
    let answered: unknown;
    await until(async () => {
      const hits = cacheOf(db).hits;
      answered = await db('ca_users').where({ id: 1 });
      return cacheOf(db).hits > hits;
    }, 'the ca_users entry answering after the ca_plans write');
    expect(answered).to.deep.equal([{ id: 1, name: 'ada' }]);
    await behindTheBack("update ca_users set name = 'ada' where id = 1");
  });

  it('invalidates through cascading foreign keys, views and partitions', async () => {
    const db = await cachedDb({ strategy: 'all' });
    const read = async () => ({
      comments: await db('ca_comments').count({ n: '*' }),
      view: await db('ca_user_posts').orderBy('name'),
      events: await db('ca_events').count({ n: '*' }),
    });
    const before = await read();
    expect(before.view).to.have.length(2);
    await db('ca_users').where({ id: 1 }).del(); // cascades to ca_posts and ca_comments
    await db('ca_events_2024').insert({ id: 2, at: '2024-06-01' }); // a partition; reads name the parent
    const after = await read();
    expect(after.comments).to.deep.equal([{ n: '0' }]);
    expect(after.view).to.deep.equal([{ name: 'bob', title: 'bye' }]);
    expect(after.events).to.deep.equal([{ n: '2' }]);
    await behindTheBack("insert into ca_users values (1, 'ada'); insert into ca_posts values (10, 1, 'hello'); insert into ca_comments values (100, 10, 'nice'); delete from ca_events where id = 2");
  });

  it('clears everything after a write to a table with triggers, TRUNCATE and DDL (and reloads its catalog)', async () => {
    const db = await cachedDb({ strategy: 'all' });
    const warm = async (): Promise<number> => {
      await db('ca_plans');
      await db('ca_users');
      return cacheOf(db).entries!;
    };
    // After an invalidation a replica's result is stored only once it is known to have replayed it.
    const warmed = () => until(async () => (await warm()) === 2, 'both entries stored');
    await warmed();
    await db('ca_audited').update({ v: 1 });
    expect(cacheOf(db).entries).to.equal(0);
    await warmed();
    await db.raw('truncate ca_audit_log');
    expect(cacheOf(db).entries).to.equal(0);
    await warmed();
    const loads = cacheOf(db).catalog.loads;
    await db.raw('alter table ca_tx add column if not exists note text');
    expect(cacheOf(db).entries).to.equal(0);
    await until(() => cacheOf(db).catalog.ready && cacheOf(db).catalog.loads > loads, 'the catalog reload');
    expect(cacheOf(db).invalidations.clears).to.equal(3);
  });

  it('a transaction invalidates at COMMIT, not at ROLLBACK; its own reads bypass the cache', async () => {
    const db = await cachedDb({ strategy: 'all' });
    const hits = () => cacheOf(db).hits;
    expect(await db('ca_tx').where({ id: 1 }).first()).to.include({ v: 0 });
    await db.transaction(async (trx) => {
      await trx('ca_tx').where({ id: 1 }).update({ v: 1 });
      // Inside: the transaction's own connection, not the cache.
      expect(await trx('ca_tx').where({ id: 1 }).first()).to.include({ v: 1 });
      const h = hits();
      // Outside, before COMMIT: the committed value, from the cache.
      expect(await db('ca_tx').where({ id: 1 }).first()).to.include({ v: 0 });
      expect(hits()).to.equal(h + 1);
    });
    expect(await db('ca_tx').where({ id: 1 }).first()).to.include({ v: 1 });
    await until(async () => (await db('ca_tx').where({ id: 1 }).first(), cacheOf(db).entries === 1), 'the entry stored again');
    const invalidations = cacheOf(db).invalidations.local;
    await db.transaction(async (trx) => {
      await trx('ca_tx').where({ id: 1 }).update({ v: 2 });
      throw new Error('roll back');
    }).catch(() => undefined);
    expect(cacheOf(db).invalidations.local).to.equal(invalidations);
    const h = hits();
    expect(await db('ca_tx').where({ id: 1 }).first()).to.include({ v: 1 });
    expect(hits()).to.equal(h + 1);
  });

  it('an autocommit write publishes its invalidation with its own commit position: the next read may be cached at once', async () => {
    // The invalidation's position is the write's commit position, read on the connection that
    // committed it. When that read fails, caching shuts until a background retry has published
    // it; the reads right after the write are then skipped. It must not fail on the happy path.
    const db = await cachedDb({ strategy: 'all' }, { sticky: { mode: 'none' } });
    const reasons = skips(db);
    for (let i = 0; i < 10; i++) {
      await db('ca_tx').where({ id: 1 }).update({ v: i });
      await db('ca_plans').where({ id: 1 });
    }
    expect(reasons).to.deep.equal([]);
  });

  it('does not store the result of a read that started before an invalidation (stale put)', async () => {
    const db = await cachedDb({ strategy: 'all' });
    // A slow read (~0.3 s of generate_series, cacheable) of ca_plans, overtaken by a write.
    const slow = db.raw('select (select count(*) from generate_series(1, 3000000)) as n, price from ca_plans where id = 2');
    const pending = slow.then((r: { rows: unknown[] }) => r.rows);
    await new Promise((r) => setTimeout(r, 50));
    await db('ca_plans').where({ id: 2 }).update({ price: 22 });
    expect((await pending)[0]).to.include({ n: '3000000' });
    expect(cacheOf(db).staleRejections).to.equal(1);
    expect(cacheOf(db).entries).to.equal(0);
  });

  it('expires entries by the injected clock (no sleeping)', async () => {
    let now = 0;
    const db = await cachedDb({ strategy: 'explicit', ttlMs: 1000 }, { clock: { now: () => now }, health: false });
    await db('ca_plans').where({ id: 1 }).cache();
    await db('ca_plans').where({ id: 1 }).cache({ ttlMs: 5000 }).select('price');
    await behindTheBack('update ca_plans set price = 13 where id = 1');
    now = 999;
    expect(await db('ca_plans').where({ id: 1 }).cache()).to.deep.equal([{ id: 1, price: 12 }]);
    now = 1001;
    expect(await db('ca_plans').where({ id: 1 }).cache()).to.deep.equal([{ id: 1, price: 13 }]);
    expect(await db('ca_plans').where({ id: 1 }).cache({ ttlMs: 5000 }).select('price')).to.deep.equal([{ price: 12 }]);
    now = 5001;
    expect(await db('ca_plans').where({ id: 1 }).cache({ ttlMs: 5000 }).select('price')).to.deep.equal([{ price: 13 }]);
  });

  it('keys by scope (evaluated per query) and refuses RLS tables without one; .cache({ key }) names an entry', async () => {
    await getTestCluster().query('primary', 'drop table if exists ca_rls; create table ca_rls (id int); alter table ca_rls enable row level security');
    let tenant: string | undefined = 'a';
    const scoped = await cachedDb({ strategy: 'all', scope: () => tenant });
    const plain = await cachedDb({ strategy: 'all' });
    const reasons = skips(plain);
    await plain('ca_rls');
    expect(reasons).to.deep.equal(['row-level security on public.ca_rls needs cache.scope']);
    await scoped('ca_plans').where({ id: 2 });
    tenant = 'b';
    await scoped('ca_plans').where({ id: 2 });
    tenant = undefined;
    await scoped('ca_plans').where({ id: 2 });
    expect(cacheOf(scoped)).to.deep.include({ misses: 2, stores: 2, hits: 0 });
    await scoped('ca_rls').then(() => undefined, () => undefined);
    await plain('ca_users').cache({ key: 'everyone' });
    await behindTheBack("update ca_users set name = 'bo' where id = 2");
    expect(await plain('ca_users').where('id', '>', 0).cache({ key: 'everyone' })).to.have.length(2);
    expect(cacheOf(plain).hits).to.equal(1);
    await behindTheBack("update ca_users set name = 'bob' where id = 2");
  });

  it('runs the docs/caching.md quick start as written (tables in their own schema)', async () => {
    await getTestCluster().query('primary', `drop schema if exists ca_docs cascade; create schema ca_docs;
      create table ca_docs.plans (id int primary key, active boolean, price int);
      insert into ca_docs.plans values (1, true, 10), (3, true, 30), (4, false, 40)`);
    await getTestCluster().waitForReplication();
    const db = await cachedDb({ max: 5000, ttlMs: 30_000 }, { searchPath: ['ca_docs', 'public'] });
    // --- docs/caching.md
    const plans = await db('plans').where({ active: true }).cache(); // a replica, then memory
    await db('plans').where({ id: 3 }).update({ price: 12 });         // invalidates the 'plans' tag at commit
    await db('plans').where({ active: true }).cache();                // a replica again: never the old rows
    await db.raw('select count(*) from plans').cache({ ttlMs: 5000 });
    // ---
    expect(plans).to.have.length(2);
    expect(cacheOf(db).invalidations.local).to.equal(1);
    const events: CacheEvent[] = [];
    db.on('cache', (e: CacheEvent) => events.push(e));
    // Right after a write a replica's answer is stored once the replica is known to have replayed it.
    await until(async () => {
      events.length = 0;
      await db.raw('select count(*) from plans').cache({ ttlMs: 5000 });
      return events[0]?.outcome === 'hit';
    }, 'a hit');
    expect(events[0]!.tags).to.deep.equal(['ca_docs.plans']);
  });
});
