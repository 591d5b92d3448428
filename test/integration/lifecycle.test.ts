import { expect } from 'chai';
import { spawn } from 'child_process';
import knex from 'knex';
import * as path from 'path';
import { splitKnex, SplitKnexError, type SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb, splitConfigFor } from '../support/split-db';

const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };
const backendsOf = async (applicationName: string): Promise<Array<{ port: number; n: number }>> => {
  const cluster = getTestCluster();
  const out: Array<{ port: number; n: number }> = [];
  for (const node of cluster.nodes) {
    const rows = await cluster.query(node.name, `select count(*)::int as n from pg_stat_activity where application_name = '${applicationName}'`);
    out.push({ port: node.port, n: (rows[0] as { n: number }).n });
  }
  return out;
};

// Runs a child process (tsx, like the tests) and resolves with its exit code (or 'hung') and its stderr.
function runChild(script: string, graceMs: number): Promise<{ code: number | 'hung'; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'], cwd: path.resolve(__dirname, '../..'),
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'hung', stderr });
    }, graceMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr });
    });
  });
}

describe('lifecycle: created → running → destroyed → initialize()', () => {
  after(destroyAll);

  it('opens no connection and calls no connection provider until the first query or ready()', async () => {
    const cluster = getTestCluster();
    let calls = 0;
    const db = makeDb({
      connection: () => { calls++; return { connectionString: cluster.primary.url }; },
      lag: { pollIntervalMs: 5 },
      health: { intervalMs: 10 },
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(calls).to.equal(0);
    expect(db.stats().background.state).to.equal('created');
    expect(db.stats().background.connections.map((c) => c.connects)).to.deep.equal([0, 0, 0]);
    await db.ready();
    expect(db.stats().background.state).to.equal('running');
    expect(calls).to.equal(1);
  });

  it('ready() resolves once the catalog and the replica positions are loaded', async () => {
    const db = makeDb();
    await db.ready();
    const s = db.stats();
    expect((s.catalog as { state: string }).state).to.equal('ready');
    const replicas = (s.consistency as { replicas: Array<{ replayLsn: string | null }> }).replicas;
    expect(replicas.every((r) => r.replayLsn !== null)).to.equal(true);
  });

  it('background work uses one dedicated connection per node, never the application pool', async () => {
    const db = makeDb({ lag: { pollIntervalMs: 5 }, health: { intervalMs: 10 } });
    await db.ready();
    await new Promise((r) => setTimeout(r, 100));
    const bg = await backendsOf('split-knex background');
    // Other instances of this run may be alive: at least ours, and no node more than the instances that use it.
    expect(bg.every((b) => b.n >= 1)).to.equal(true);
    expect(db.stats().background.connections.map((c) => [c.connected, c.connects])).to.deep.equal([[true, 1], [true, 1], [true, 1]]);
    // The application's pools were never touched by probes, polls or catalog loads.
    expect(db.stats().nodes.map((n) => n.pool.used + n.pool.free)).to.deep.equal([0, 0, 0]);
  });

  it('pooled-session behaviour is as with plain knex: advisory lock then unlock, 100 of 100 on the same session', async () => {
    const cluster = getTestCluster();
    // Background work as busy as it gets, on the primary's pool it used to borrow from.
    const db = makeDb({ pool: { min: 0, max: 4 }, lag: { pollIntervalMs: 1 }, health: { intervalMs: 10 }, catalog: { refreshMs: 50 } });
    await db.ready();
    let same = 0;
    for (let i = 0; i < 100; i++) {
      await db.primary.raw('select pg_advisory_lock(4242)');
      const r = await db.primary.raw('select pg_advisory_unlock(4242) as ok');
      if (r.rows[0].ok === true) same++;
      else await cluster.query('primary', 'select pg_advisory_unlock_all()');
    }
    expect(same).to.equal(100);
  });

  it('a query after destroy() rejects with ESPLIT_DESTROYED (builders, raw, transactions, acquireConnection)', async () => {
    const db = splitKnex(splitConfigFor(getTestCluster(), { log: QUIET }));
    await db.raw('select 1');
    const destroying = db.destroy();
    // Refused from the moment destroy() is called, as knex refuses once its pool is gone.
    const early = await db('pg_class').first().then(() => undefined, (e: unknown) => e);
    await destroying;
    const errors = await Promise.all([
      db('pg_class').first(),
      db.raw('select 1'),
      db.transaction(async (trx) => trx.raw('select 1')),
      db.client.acquireConnection(),
    ].map((p) => Promise.resolve(p).then(() => undefined, (e: unknown) => e)));
    for (const e of [early, ...errors]) {
      expect(e).to.be.instanceOf(SplitKnexError);
      expect((e as SplitKnexError).code).to.equal('ESPLIT_DESTROYED');
    }
    expect(db.stats().background.state).to.equal('destroyed');
    expect(db.stats().background.connections.every((c) => !c.connected)).to.equal(true);
  });

  it('destroy() then initialize() then a query works, and background work starts again', async () => {
    const db = makeDb();
    await db.ready();
    await db.destroy();
    db.initialize();
    expect(db.stats().background.state).to.equal('created');
    const row = await db.raw('select pg_is_in_recovery() as standby');
    expect(row.rows[0].standby).to.equal(true);
    expect(db.stats().background.state).to.equal('running');
    await db.destroy();
    db.initialize();
    await db.primary.raw('select 1');
  });

  it('destroy() right after writes says nothing: background work it cuts short is not a failure to warn about', async () => {
    const cluster = getTestCluster();
    await cluster.query('primary', 'create table if not exists lc_writes (id serial primary key, v int)');
    const said: string[] = [];
    const log = { warn: (m: string) => said.push(`warn: ${m}`), error: (m: string) => said.push(`error: ${m}`), deprecate() {}, debug() {} };
    for (let i = 0; i < 20; i++) {
      const db = splitKnex(splitConfigFor(cluster, { log, cache: { max: 100, ttlMs: 60_000 } }));
      await db('lc_writes').insert({ v: i });
      // The write's shared position read is due 20 ms later, or on its way: destroy cuts it.
      if (i % 2 === 1) await new Promise((r) => setTimeout(r, i));
      await db.destroy();
    }
    expect(said).to.deep.equal([]);
  });

  it('20 processes that call destroy() 0–10 ms after splitKnex() (half of them after starting work) all exit on their own', async function () {
    this.timeout(240_000);
    const cluster = getTestCluster();
    const config = JSON.stringify(splitConfigFor(cluster, { health: { intervalMs: 10, timeoutMs: 2000 }, lag: { pollIntervalMs: 1 } }));
    const script = (start: boolean, delay: number) => `
      const { splitKnex } = require('./lib');
      const db = splitKnex(${config});
      ${start ? 'db.ready().catch(() => {}); db.raw("select 1").catch(() => {});' : ''}
      setTimeout(() => { db.destroy().catch((e) => { console.error(e); process.exitCode = 3; }); }, ${delay});`;
    // Five at a time: twenty tsx start-ups at once would measure the machine, not split-knex.
    const results: Array<{ code: number | 'hung'; stderr: string }> = [];
    for (let batch = 0; batch < 4; batch++) {
      const runs = [0, 1, 2, 3, 4].map((k) => batch * 5 + k).map((i) => runChild(script(i % 2 === 1, i % 11), 45_000));
      results.push(...(await Promise.all(runs)));
    }
    expect(results.map((r) => r.code), results.map((r) => r.stderr).filter((e) => e !== '').join('\n---\n').slice(0, 2000)).to.deep.equal(Array(20).fill(0));
  });
});

describe('a connection provider is called where knex calls it', () => {
  // A provider whose results expire when the test says so (a token rotated mid-run), or never.
  async function count(make: (connection: () => unknown) => { raw(sql: string): Promise<unknown>; destroy(): Promise<void> }, rotate: boolean): Promise<number> {
    const url = getTestCluster().primary.url;
    let calls = 0;
    let generation = 0;
    const provider = () => {
      calls++;
      const issued = generation;
      return rotate ? { connectionString: url, expirationChecker: () => issued < generation } : { connectionString: url };
    };
    const db = make(provider);
    try {
      for (let i = 0; i < 20; i++) {
        if (i === 10) generation++;
        await db.raw('select 1');
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await db.destroy();
    }
    return calls;
  }

  for (const rotate of [false, true]) {
    it(`no more often than plain knex (${rotate ? 'a provider whose result expires mid-run' : 'a provider without expiry'})`, async () => {
      const plain = await count((connection) => knex({ client: 'pg', connection: connection as never, pool: { min: 0, max: 4 } }), rotate);
      const split = await count((connection) => {
        const db = splitKnex({
          client: 'pg', connection: connection as never, pool: { min: 0, max: 4 }, log: QUIET,
          // Replicas have URLs: the primary's provider is what is counted, with every query on the primary.
          replicas: getTestCluster().replicas.map((r) => ({ name: r.name, connection: r.url })),
          lag: { pollIntervalMs: 1 }, health: { intervalMs: 10 },
        });
        return { raw: (sql) => db.primary.raw(sql), destroy: () => db.destroy() };
      }, rotate);
      expect(plain).to.equal(rotate ? 2 : 1);
      expect(split).to.be.at.most(plain);
      expect(split).to.be.at.least(1);
    });
  }
});
