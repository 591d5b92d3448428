import { expect } from 'chai';
import { spawnSync } from 'child_process';
import knex, { type Knex } from 'knex';
import path from 'path';
import type { Readable } from 'stream';
import type { CacheStats, SplitKnex } from '../../lib';
import { getTestCluster, type NodeInfo } from '../support/cluster';
import { pollUntil } from '../support/cluster/poll';
import { useLaggingReplica } from '../support/lagging-replica';
import { makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

// `.stream()` through split-knex against the real cluster: a streamed write's effects run
// before the consumer sees 'end'; a stream the consumer destroys settles like in knex; a
// failing stream emits 'error' once; `.timeout(ms, { cancel: true })` cancels on the node
// that runs the query; async stack traces point at the caller like knex's.

/** Reads a stream to its end (or error), collecting rows and counting 'error' events. */
function drain(stream: Readable): Promise<{ rows: Array<Record<string, unknown>>; errors: unknown[] }> {
  const rows: Array<Record<string, unknown>> = [];
  const errors: unknown[] = [];
  return new Promise((resolve) => {
    stream.on('data', (row: Record<string, unknown>) => rows.push(row));
    // knex emits a query's error without destroying the stream (no 'close' follows): after the
    // first 'end' or 'error', give a second 'error' time to show up.
    const settle = () => setTimeout(() => resolve({ rows, errors }), 100);
    stream.on('error', (err: unknown) => {
      if (errors.push(err) === 1) settle();
    });
    stream.on('end', settle);
  });
}

// db.ready() does not wait for the cache's relation catalog today: wait for it here.
async function cacheReady(db: SplitKnex): Promise<void> {
  await db.ready();
  await pollUntil(async () => (db.stats().cache as CacheStats).catalog.ready, { timeoutMs: 10_000, what: "the cache's relation catalog" });
}

function plainKnex(node: NodeInfo, extra: Partial<Knex.Config> = {}): Knex {
  return knex({ client: 'pg', connection: node.url, pool: { min: 0, max: 2 }, ...extra });
}

describe('streams', function () {
  this.timeout(60_000);
  const cluster = () => getTestCluster();
  let lag: NodeInfo;
  const onLagging = (extra: Parameters<typeof makeDb>[0] = {}): SplitKnex =>
    makeDb({ replicas: [{ name: lag.name, connection: lag.url }], lag: { pollIntervalMs: 100 }, ...extra });

  useLaggingReplica(300, async (l) => {
    lag = l;
    await cluster().query('primary', 'drop table if exists st_items; create table st_items (id serial primary key, v int not null)');
  });

  describe('a write run through .stream()', () => {
    it("records its position before 'end': a read right after 'end' sees the row (LSN mode, lagging replica)", async () => {
      const db = onLagging({ sticky: { mode: 'lsn', maxWaitMs: 5000 } });
      for (let i = 0; i < 5; i++) {
        const { rows, errors } = await drain(db('st_items').insert({ v: i }).returning('id').stream());
        expect(errors).to.deep.equal([]);
        const id = rows[0]!.id as number;
        const seen = await db('st_items').where({ id }).first('id');
        expect(seen, `row ${id} read right after 'end'`).to.not.equal(undefined);
      }
      expect(db.stats().consistency.lsnCaptures).to.be.at.least(5);
    });

    it("invalidates the cache before 'end': the next cached read is not the pre-write answer", async () => {
      // The replica that keeps up: the cache stores only what a replica answers after it replayed the last invalidation.
      const fresh = cluster().replicas.find((r) => r.name !== lag.name)!;
      await cluster().waitForReplication(30_000, [fresh.name]);
      const db = makeDb({ replicas: [{ name: fresh.name, connection: fresh.url }], sticky: { mode: 'lsn', maxWaitMs: 5000 }, cache: { max: 100, ttlMs: 60_000, strategy: 'all' } });
      await cacheReady(db);
      const count = async () => Number((await db('st_items').count({ n: '*' }))[0]!.n);
      const before = await count();
      expect(await count()).to.equal(before);
      expect((db.stats().cache as CacheStats).hits, JSON.stringify(db.stats().cache)).to.equal(1);
      const { errors } = await drain(db('st_items').insert({ v: 100 }).returning('id').stream());
      expect(errors).to.deep.equal([]);
      expect(await count()).to.equal(before + 1);
    });
  });

  it('reads by stream are neither answered nor stored by the cache', async () => {
    const db = onLagging({ cache: { max: 100, ttlMs: 60_000, strategy: 'all' } });
    await cacheReady(db);
    const a = await drain(db('st_items').select('id').orderBy('id').stream());
    const b = await drain(db('st_items').select('id').orderBy('id').stream());
    expect(b.rows).to.deep.equal(a.rows);
    const s = db.stats().cache as CacheStats;
    expect({ hits: s.hits, misses: s.misses, stores: s.stores, entries: s.entries }).to.deep.equal({ hits: 0, misses: 0, stores: 0, entries: 0 });
  });

  describe('a stream the consumer destroys part-way', () => {
    it('settles: inFlight back to 0, no listener left on the connection, the replica stays up, no error later', async () => {
      const replica = cluster().replicas.find((r) => r.name !== lag.name)!;
      const db = makeDb({ replicas: [{ name: replica.name, connection: replica.url }], pool: { min: 0, max: 1 } });
      const late: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const stream = db.raw('select g from generate_series(1, 100000) g').stream();
        await new Promise<void>((resolve) => stream.once('data', () => {
          stream.destroy();
          resolve();
        }));
        stream.on('error', (err) => late.push(err));
      }
      await pollUntil(async () => db.stats().totals.replica.inFlight === 0, {
        timeoutMs: 10_000, what: 'destroyed streams to settle', describe: () => JSON.stringify(db.stats().nodes),
      });
      // The same (only) pooled connection serves the next read: it was released, and holds no 'end' listener of ours.
      const [row] = (await db.raw(`select ${WHERE_AM_I}, pg_backend_pid() as pid`)).rows;
      expect(nodeByPort(row.port)).to.equal(replica.name);
      await db.destroy();
      expect(late).to.deep.equal([]);
      const node = db.stats().nodes.find((n) => n.name === replica.name)!;
      expect({ state: node.state, errors: node.errors, inFlight: node.inFlight }).to.deep.equal({ state: 'up', errors: 0, inFlight: 0 });
    });

    it('12 of them on one connection: no MaxListenersExceededWarning, and the process exits 0 like plain knex', function () {
      this.timeout(120_000);
      const replica = cluster().replicas.find((r) => r.name !== lag.name)!;
      const script = path.join(__dirname, '../support/destroyed-streams.ts');
      const runAs = (kind: string) => spawnSync(process.execPath, ['--require', 'tsx/cjs', script, kind, cluster().primary.url, replica.name, replica.url], {
        encoding: 'utf8', timeout: 60_000, cwd: path.join(__dirname, '../..'),
      });
      const plain = runAs('knex');
      const split = runAs('split');
      expect({ status: plain.status, stdout: plain.stdout.trim() }, plain.stderr).to.deep.equal({ status: 0, stdout: '{"warnings":[]}' });
      expect({ status: split.status, stdout: split.stdout.trim() }, split.stderr).to.deep.equal({ status: 0, stdout: '{"warnings":[]}' });
    });
  });

  describe('a failing stream', () => {
    const failing: Array<[string, (db: Knex) => Readable]> = [
      ['a read that fails on the replica (22012)', (db) => db.raw('select 1 / (g - 3) from generate_series(1, 5) g').stream()],
      ['a write that fails on the primary (23505)', (db) => db('st_items').insert({ id: 1, v: 1 }).returning('id').stream()],
      ['a read of a table that does not exist (42P01)', (db) => db('st_no_such_table').select().stream()],
    ];
    for (const [what, make] of failing) {
      it(`emits 'error' once, as knex does: ${what}`, async () => {
        const fresh = cluster().replicas.find((r) => r.name !== lag.name)!;
        await cluster().waitForReplication(30_000, [fresh.name]);
        await drain(makeDb({ replicas: [{ name: fresh.name, connection: fresh.url }] })('st_items').insert({ id: 1, v: 1 }).onConflict('id').ignore().stream());
        const db = makeDb({ replicas: [{ name: fresh.name, connection: fresh.url }] });
        const ours = await drain(make(db as unknown as Knex));
        const plain = plainKnex(fresh);
        const theirs = await drain(make(what.includes('primary') ? plainKnex(cluster().primary) : plain));
        await plain.destroy();
        expect(theirs.errors.length, 'plain knex').to.equal(1);
        expect(ours.errors.length).to.equal(1);
        expect((ours.errors[0] as { code?: string }).code).to.equal((theirs.errors[0] as { code?: string }).code);
      });
    }
  });

  describe('.timeout() and asyncStackTraces', () => {
    // pg_sleep() is no read to the classifier: vouch for it.
    const onReplica = { splitKnex: { target: 'replica' } };
    it('.timeout(ms, { cancel: true }) cancels the query on the replica that runs it', async () => {
      const fresh = cluster().replicas.find((r) => r.name !== lag.name)!;
      const db = makeDb({ replicas: [{ name: fresh.name, connection: fresh.url }] });
      const tag = `st_cancel_${Date.now()}`;
      const ran: string[] = [];
      db.on('route', (e: { node: string }) => ran.push(e.node));
      let caught: unknown;
      try {
        await db.raw(`select pg_sleep(30), '${tag}'`).queryContext(onReplica).timeout(300, { cancel: true });
      } catch (err) {
        caught = err;
      }
      expect(ran).to.deep.equal([fresh.name]);
      expect((caught as Error)?.name).to.equal('KnexTimeoutError');
      expect((caught as Error).message).to.equal('Defined query timeout of 300ms exceeded when running query.');
      // Cancelled where it ran: nothing of it is still running on the replica.
      const running = await cluster().query(fresh.name, `select count(*)::int as n from pg_stat_activity where query like '%${tag}%' and state = 'active' and pid <> pg_backend_pid()`);
      expect(running[0].n).to.equal(0);
    });

    it('keeps knex\'s error when cancelling itself fails (the replica refuses the cancel connection)', async () => {
      const fresh = cluster().replicas.find((r) => r.name !== lag.name)!;
      const role = 'st_one_conn';
      await cluster().query('primary', `do $$ begin if not exists (select from pg_roles where rolname = '${role}') then create role ${role} login; end if; end $$; alter role ${role} connection limit 1; grant select on st_items to ${role}`);
      await cluster().waitForReplication(30_000, [fresh.name]);
      const as = (url: string) => url.replace(/\/\/[^@/]*@/, `//${role}@`);
      // Only the replica is reached as the limited role; no background work connects to it.
      const db = makeDb({ replicas: [{ name: fresh.name, connection: as(fresh.url) }], health: false, sticky: { mode: 'none' } });
      const ran: string[] = [];
      db.on('route', (e: { node: string }) => ran.push(e.node));
      let caught: unknown;
      try {
        await db.raw('select pg_sleep(30)').queryContext(onReplica).timeout(300, { cancel: true });
      } catch (err) {
        caught = err;
      }
      expect(ran).to.deep.equal([fresh.name]);
      expect((caught as Error)?.message, (caught as Error)?.stack).to.equal('After query timeout of 300ms exceeded, cancelling of query failed.');
      expect((caught as { code?: string }).code).to.equal('53300');
    });

    it('with asyncStackTraces: true the stack starts at the caller, like knex', async () => {
      const db = makeDb({ asyncStackTraces: true });
      const plain = plainKnex(cluster().primary, { asyncStackTraces: true });
      const fail = (k: Knex) => k('st_no_such_table').select('id');
      const failRaw = (k: Knex) => k.raw('select * from st_no_such_table');
      const firstFrame = async (p: Promise<unknown>) => {
        try {
          await p;
        } catch (err) {
          // knex keeps its own first frame or two; what matters is where the caller's frame is.
          const frames = (err as Error).stack!.split('\n').slice(1).map((l) => l.trim());
          const at = frames.findIndex((l) => l.includes('streams.test.ts'));
          return { at, frame: frames[at] };
        }
        throw new Error('expected a failure');
      };
      try {
        for (const make of [fail, failRaw]) {
          const theirs = await firstFrame(make(plain) as unknown as Promise<unknown>);
          const ours = await firstFrame(make(db as unknown as Knex) as unknown as Promise<unknown>);
          expect(theirs.at).to.be.at.least(0);
          expect(ours).to.deep.equal(theirs);
        }
      } finally {
        await plain.destroy();
      }
    });
  });
});
