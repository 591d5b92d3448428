import { expect } from 'chai';
import { createServer } from 'net';
import { SplitKnexError, splitKnex, type SplitKnex, type SplitKnexConfig } from '../../lib';
import { startCluster, type Cluster } from '../support/cluster';

// Fault injection on a throwaway cluster (primary + 2 streaming replicas): processes are
// stopped, paused and promoted under load. Every claim is checked with the database's own
// answers (inet_server_port(), pg_is_in_recovery(), the rows the primary holds).
// The tests run in order on one cluster; each one heals what it broke (afterEach), and the
// promotion, which cannot be undone, comes last.

const PROBE = { intervalMs: 250, timeoutMs: 1000, connectTimeoutMs: 2000 };
// knex warns on every failed acquire; the figures say what matters.
const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Recorded { event: string; payload: any; at: number }

describe('failover: fault injection on a throwaway cluster', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  const open: SplitKnex[] = [];
  const broken = new Map<string, 'stopped' | 'paused'>();
  let run = 0;

  before(async () => {
    cluster = await startCluster({ replicas: 2 });
    await cluster.query('primary', 'create table hc_load (run int not null, worker int not null, seq int not null, primary key (run, worker, seq))');
    await cluster.query('primary', 'create table hc_roles (id serial primary key, note text)');
    await cluster.waitForReplication();
  });
  afterEach(async () => {
    // Heal first: destroying a pool waits for connections stuck on a paused server.
    for (const [name, how] of broken) {
      if (how === 'paused') await cluster.resume(name);
      else await cluster.start(name);
    }
    broken.clear();
    await Promise.all(open.splice(0).map((db) => db.destroy()));
  });
  after(async () => {
    await cluster?.destroy();
  });

  const port = (name: string) => cluster.node(name).port;
  const nameOf = (p: number) => cluster.nodes.find((n) => n.port === Number(p))?.name ?? `port ${p}`;

  function makeDb(extra: Partial<SplitKnexConfig> = {}): SplitKnex {
    const db = splitKnex({
      client: 'pg',
      connection: cluster.primary.url,
      replicas: cluster.replicas.map((r) => ({ name: r.name, connection: r.url })),
      pool: { min: 0, max: 8 },
      health: PROBE,
      log: QUIET,
      // Plain splitting, no background catalog queries: these tests measure health handling
      // alone. (With read-your-writes on, a read that must see a write goes to the primary, or,
      // while the primary is down, to the most caught-up replica: see docs/consistency.md.)
      sticky: { mode: 'none' },
      catalog: false,
      ...extra,
    } as SplitKnexConfig);
    open.push(db);
    return db;
  }

  function record(db: SplitKnex): Recorded[] {
    const events: Recorded[] = [];
    for (const event of ['node-down', 'node-up', 'failover', 'role-change']) {
      db.on(event, (payload: unknown) => events.push({ event, payload, at: Date.now() }));
    }
    return events;
  }

  async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(20);
    }
  }

  const event = (events: Recorded[], name: string, node: string, after = 0) =>
    events.find((e) => e.event === name && e.payload.node === node && e.at >= after);

  // Every node probed at least once and up.
  async function ready(db: SplitKnex): Promise<void> {
    await db.ready(); // Background work (the probes) starts with the first statement or ready().
    await waitFor('every node probed and up', () => {
      const h = db.stats().health as any;
      return Object.values(h.nodes).every((n: any) => n.state === 'up' && n.probes > 0 && n.failures === 0);
    });
  }

  async function stop(name: string): Promise<number> {
    const t = Date.now();
    broken.set(name, 'stopped');
    await cluster.stop(name, 'immediate');
    return t;
  }

  async function start(name: string): Promise<{ called: number; resolved: number }> {
    const called = Date.now();
    await cluster.start(name);
    broken.delete(name);
    return { called, resolved: Date.now() };
  }

  interface LoadResult {
    reads: number;
    readFailures: string[];
    acked: Array<[number, number]>;
    writeFailures: unknown[];
    served: Array<{ at: number; port: number }>;
  }

  // `workers` loops of reads and writes (writeRatio of them writes) until stop() is called.
  function startLoad(db: SplitKnex, workers: number, writeRatio: number) {
    const id = ++run;
    const result: LoadResult = { reads: 0, readFailures: [], acked: [], writeFailures: [], served: [] };
    let stopping = false;
    const loops = Array.from({ length: workers }, async (_, worker) => {
      for (let seq = 0; !stopping; seq++) {
        if (Math.random() < writeRatio) {
          try {
            await db('hc_load').insert({ run: id, worker, seq });
            result.acked.push([worker, seq]);
          } catch (err) {
            result.writeFailures.push(err);
          }
        } else {
          try {
            const row = await db.first(db.raw('inet_server_port() as port'), db.raw('(select count(*) from hc_load where run = ? and worker = ?) as n', [id, worker]));
            result.reads++;
            result.served.push({ at: Date.now(), port: Number(row.port) });
          } catch (err) {
            result.readFailures.push(String(err));
          }
        }
      }
    });
    return {
      id,
      result,
      async stop(): Promise<LoadResult> {
        stopping = true;
        await Promise.all(loops);
        return result;
      },
    };
  }

  // Terminates the backend running the query tagged `tag` (57P01 for its client); returns its node.
  async function killBackend(tag: string): Promise<string> {
    return waitFor(`a backend running ${tag}`, async () => {
      for (const n of cluster.nodes) {
        const rows = await cluster.query(n.name, 'select pg_terminate_backend(pid) as done from pg_stat_activity where query like $1 and pid <> pg_backend_pid()', [`%'${tag}'%`]);
        if (rows.some((r) => r.done === true)) return n.name;
      }
      return undefined;
    }, 10_000);
  }

  // Acknowledged writes the primary does not hold: must be none.
  async function lostWrites(id: number, acked: Array<[number, number]>): Promise<number> {
    const rows = await cluster.query<{ worker: number; seq: number }>('primary', 'select worker, seq from hc_load where run = $1', [id]);
    const held = new Set(rows.map((r) => `${r.worker}:${r.seq}`));
    return acked.filter(([w, s]) => !held.has(`${w}:${s}`)).length;
  }

  it('a replica stopped under load (8 workers, 10 s): no read fails, no write is lost, it is back within 2 probe intervals of its restart', async () => {
    const db = makeDb();
    const events = record(db);
    await ready(db);
    const load = startLoad(db, 8, 0.3);
    const began = Date.now();
    await sleep(2000);
    const stoppedAt = await stop('replica1');
    const down = await waitFor('replica1 ejected', () => event(events, 'node-down', 'replica1'));
    await sleep(1500);
    const started = await start('replica1');
    const up = await waitFor('replica1 re-admitted', () => event(events, 'node-up', 'replica1', started.called));
    // Keep the load for 10 s in all, and at least 1.5 s after the re-admission.
    await sleep(Math.max(10_000 - (Date.now() - began), 1500));
    const r = await load.stop();
    const lost = await lostWrites(load.id, r.acked);
    const servedByReplica1After = r.served.filter((s) => s.at > up.at && s.port === port('replica1')).length;
    const h = db.stats().health as any;
    const readmit = Math.max(0, up.at - started.resolved);
    console.log(`[figures] replica stopped under load: reads failed=${r.readFailures.length}/${r.reads + r.readFailures.length}, writes lost=${lost}/${r.acked.length} (write errors=${r.writeFailures.length}), retries=${h.retries}, time to eject=${down.at - stoppedAt} ms after stop, time to re-admit=${readmit} ms after start() resolved (${up.at - started.called} ms after start() was called), reads on replica1 after re-admission=${servedByReplica1After}, duration=${Date.now() - began} ms`);
    expect(r.readFailures).to.deep.equal([]);
    expect(r.writeFailures).to.deep.equal([]);
    expect(lost).to.equal(0);
    // 2 probe intervals (the longest re-probe backoff) plus one probe's own timeout: a probe
    // through a container's port proxy under load takes a few hundred ms by itself.
    expect(servedByReplica1After).to.be.greaterThan(0);
    expect(h.nodes.replica1.ejections).to.equal(1);
  });

  it("every replica stopped: reads go to the primary (fallback 'primary'), or fail fast with ESPLIT_NO_REPLICA (fallback 'error')", async () => {
    const toPrimary = makeDb();
    const failing = makeDb({ routing: { fallback: 'error' } });
    const events = record(toPrimary);
    await Promise.all([ready(toPrimary), ready(failing)]);
    const load = startLoad(toPrimary, 4, 0);
    await sleep(500);
    const stoppedAt = Date.now();
    await Promise.all([stop('replica1'), stop('replica2')]);
    const downs = await waitFor('both replicas ejected', () => {
      const d = ['replica1', 'replica2'].map((n) => event(events, 'node-down', n));
      return d.every((e) => e !== undefined) ? (d as Recorded[]) : undefined;
    });
    await waitFor('both replicas ejected in the second instance', () => {
      const n = (failing.stats().health as any).nodes;
      return n.replica1.state === 'down' && n.replica2.state === 'down';
    });
    await sleep(1000); // Reads from the primary only, for a while.
    const r = await load.stop();
    const afterDown = r.served.filter((s) => s.at > Math.max(...downs.map((d) => d.at)));
    const primaryReads = (toPrimary.stats().health as any).fallbacks;
    if (r.readFailures.length > 0) console.log('unexpected failures:', distinct(r.readFailures));

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      const err = await failing.raw('select 1').then(() => undefined, (e: unknown) => e);
      latencies.push(Date.now() - t);
      expect(err).to.be.instanceOf(SplitKnexError);
      expect((err as SplitKnexError).code).to.equal('ESPLIT_NO_REPLICA');
    }
    const started = await Promise.all([start('replica1'), start('replica2')]);
    await waitFor('both replicas re-admitted', () => ['replica1', 'replica2'].every((n, i) => event(events, 'node-up', n, started[i]!.called)));
    await waitFor('the second instance to re-admit both', () => Object.values((failing.stats().health as any).nodes).every((n: any) => n.state === 'up'));
    const [row] = await failing.select(failing.raw('pg_is_in_recovery() as standby'));
    console.log(`[figures] every replica stopped: reads failed=${r.readFailures.length}/${r.reads + r.readFailures.length} (fallback primary), reads served by the primary while both were down=${afterDown.length}, fallbacks counted=${primaryReads}, time to eject=${downs.map((d) => `${d.payload.node} ${d.at - stoppedAt} ms`).join(', ')}, ESPLIT_NO_REPLICA latency max=${Math.max(...latencies)} ms median=${latencies.sort((a, b) => a - b)[10]} ms (fallback error)`);
    expect(r.readFailures).to.deep.equal([]);
    expect(afterDown.length).to.be.greaterThan(0);
    expect(afterDown.every((s) => s.port === port('primary'))).to.equal(true);
    expect(Math.max(...latencies)).to.be.below(1000); // fails fast: no connection attempt at all
    expect(row.standby).to.equal(true);
  });

  it('a replica that accepts TCP but never answers (SIGSTOPped) is ejected by the probe timeout, and reads stuck on it are retried', async () => {
    const db = makeDb();
    const events = record(db);
    await ready(db);
    const load = startLoad(db, 4, 0);
    await sleep(500);
    const pausedAt = Date.now();
    broken.set('replica2', 'paused');
    await cluster.pause('replica2');
    const down = await waitFor('replica2 ejected', () => event(events, 'node-down', 'replica2'), 30_000);
    await sleep(1000);
    const resumedAt = Date.now();
    await cluster.resume('replica2');
    broken.delete('replica2');
    const up = await waitFor('replica2 re-admitted', () => event(events, 'node-up', 'replica2', resumedAt));
    const r = await load.stop();
    const slowest = Math.max(0, ...gaps(r.served.map((s) => s.at)));
    console.log(`[figures] replica paused (SIGSTOP): reads failed=${r.readFailures.length}/${r.reads + r.readFailures.length}, time to eject=${down.at - pausedAt} ms after pause (probe timeout ${PROBE.timeoutMs} ms x ${2} failures + interval), reason=${JSON.stringify(down.payload.reason)}, time to re-admit=${up.at - resumedAt} ms after resume, longest gap between two served reads=${slowest} ms`);
    expect(down.at - pausedAt).to.be.below(15_000); // seconds, not minutes
    expect(r.readFailures).to.deep.equal([]);
  });

  it('a connection error is retried once on another node; SQL errors and bound instances are not', async () => {
    const db = makeDb();
    await ready(db);
    const retries = () => (db.stats().health as any).retries as number;

    // A read whose backend is terminated (57P01) mid-query runs again on the other replica.
    const before = retries();
    const pending = db.raw("select pg_sleep(1.5), inet_server_port() as port, 'hc-kill-1' as tag");
    const killed = killBackend('hc-kill-1');
    const [res, victim] = await Promise.all([pending, killed]);
    expect(res.rows[0].port).to.not.equal(port(victim));
    expect(nameOf(res.rows[0].port)).to.match(/^replica/);
    expect(retries()).to.equal(before + 1);

    // SQL errors: raised once, as the database said, and held against nobody.
    const sqlErr = await db('hc_no_such_table').select('*').then(() => undefined, (e: unknown) => e as { code?: string });
    expect(sqlErr?.code).to.equal('42P01');
    expect(retries()).to.equal(before + 1);
    expect(Object.values((db.stats().health as any).nodes).every((n: any) => n.state !== 'down')).to.equal(true);

    // A bound instance: the user chose the node, so its failure is theirs to see.
    const bound = db.replica('replica1').raw("select pg_sleep(1.5), 'hc-kill-2' as tag").then(() => undefined, (e: unknown) => e as { code?: string });
    await killBackend('hc-kill-2');
    const boundErr = await bound;
    console.log(`[figures] retry rules: a read whose backend was terminated (57P01) on ${victim} was retried on ${nameOf(res.rows[0].port)} (retries +1); SQL error ${sqlErr?.code}: retries +0; bound instance: ${boundErr?.code} surfaced, retries +${retries() - before - 1}`);
    expect(boundErr?.code).to.equal('57P01');
    expect(retries()).to.equal(before + 1);
  });

  it('with a replica that refuses connections and no probe: reads and streams that cannot connect are retried, transactions are not', async () => {
    const ghost = await closedPort();
    const replica2 = cluster.node('replica2');
    const db = makeDb({
      health: false,
      replicas: [{ name: 'ghost', connection: `postgres://postgres@127.0.0.1:${ghost}/${replica2.database}` }, { name: 'replica2', connection: replica2.url }],
    });
    const ports: number[] = [];
    for (let i = 0; i < 10; i++) ports.push(Number((await db.first(db.raw('inet_server_port() as port'))).port));
    let streamed = 0;
    for (let i = 0; i < 4; i++) {
      const stream = db.raw('select g from generate_series(1, 50) g').stream() as unknown as NodeJS.ReadableStream;
      streamed += await new Promise<number>((resolve, reject) => {
        let n = 0;
        stream.on('data', () => n++);
        stream.on('error', reject);
        stream.on('end', () => resolve(n));
      });
    }
    const h = db.stats().health as any;
    let trxErr: { code?: string } | undefined;
    for (let i = 0; i < 4 && trxErr === undefined; i++) {
      trxErr = await db.transaction((trx) => trx.raw('select 1'), { readOnly: true }).then(() => undefined, (e: unknown) => e as { code?: string });
    }
    console.log(`[figures] refusing replica, no probe: reads failed=0/10 (all on ${[...new Set(ports.map(nameOf))].join(', ')}), streams complete=4/4 (${streamed} rows), retries=${h.retries}, read-only transaction on it surfaced ${trxErr?.code}`);
    expect(ports.every((p) => nameOf(p) === 'replica2')).to.equal(true);
    expect(streamed).to.equal(200);
    expect(h.retries).to.be.at.least(5);
    expect(h.nodes.ghost.state).to.equal('up'); // no probe, no state
    expect(trxErr?.code).to.equal('ECONNREFUSED');
  });

  it('primary stopped: writes fail fast with ESPLIT_PRIMARY_DOWN, reads keep working from the replicas, no write is reported that the primary lacks', async () => {
    const db = makeDb();
    const events = record(db);
    await ready(db);
    const load = startLoad(db, 6, 0.4);
    await sleep(1000);
    const stoppedAt = await stop('primary');
    const down = await waitFor('primary ejected', () => event(events, 'node-down', 'primary'));
    await sleep(500);
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      const err = await db('hc_load').insert({ run: 0, worker: -1, seq: i }).then(() => undefined, (e: unknown) => e);
      latencies.push(Date.now() - t);
      expect(err).to.be.instanceOf(SplitKnexError);
      expect((err as SplitKnexError).code).to.equal('ESPLIT_PRIMARY_DOWN');
      expect((err as SplitKnexError).node).to.equal('primary');
      expect((err as Error).cause).to.not.equal(undefined);
    }
    const trxErr = await db.transaction((trx) => trx('hc_load').insert({ run: 0, worker: -2, seq: 0 })).then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(trxErr?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    const readsWhileDown = (await Promise.all(Array.from({ length: 10 }, () => db.first(db.raw('inet_server_port() as port, pg_is_in_recovery() as standby'))))) as Array<{ port: number; standby: boolean }>;
    const started = await start('primary');
    const up = await waitFor('primary re-admitted', () => event(events, 'node-up', 'primary', started.called));
    const firstWrite = await waitFor('a write after the restart', () => db('hc_load').insert({ run: 0, worker: -3, seq: Date.now() % 1e9 }).then(() => Date.now(), () => undefined));
    await sleep(500);
    const r = await load.stop();
    const lost = await lostWrites(load.id, r.acked);
    // Writes in flight when it stopped fail ESPLIT_WRITE_UNKNOWN (never replayed); the rest ESPLIT_PRIMARY_DOWN.
    const untyped = r.writeFailures.filter((e) => !(e instanceof SplitKnexError && (e.code === 'ESPLIT_PRIMARY_DOWN' || e.code === 'ESPLIT_WRITE_UNKNOWN')));
    if (untyped.length + r.readFailures.length > 0) console.log('unexpected failures:', distinct([...untyped.map(String), ...r.readFailures]));
    console.log(`[figures] primary stopped: reads failed=${r.readFailures.length}/${r.reads + r.readFailures.length}, writes lost=${lost}/${r.acked.length} acknowledged, writes failed=${r.writeFailures.length} (all ESPLIT_PRIMARY_DOWN: ${untyped.length === 0}), time to eject=${down.at - stoppedAt} ms after stop, ESPLIT_PRIMARY_DOWN latency once known down max=${Math.max(...latencies)} ms, time to re-admit=${Math.max(0, up.at - started.resolved)} ms after start() resolved, first write ${firstWrite - started.resolved} ms after start() resolved`);
    expect(r.readFailures).to.deep.equal([]);
    expect(lost).to.equal(0);
    expect(untyped.map(String)).to.deep.equal([]);
    expect(Math.max(...latencies)).to.be.below(1000);
    expect(readsWhileDown.every((row) => row.standby === true)).to.equal(true);
  });

  it('a primary that accepts TCP but never answers: a write fails with ESPLIT_PRIMARY_DOWN after the connect timeout, reads keep working', async () => {
    // A long probe interval: the write, not the probe, finds the primary hung.
    const db = makeDb({
      health: { intervalMs: 60_000, timeoutMs: 1000, connectTimeoutMs: 1000 },
      pool: { min: 0, max: 4, idleTimeoutMillis: 100, reapIntervalMillis: 50 },
    });
    await ready(db);
    // No idle connection to the primary: the write must open one (a write sent on a pooled
    // connection to a hung server waits for the probe; see closeOnDown).
    await waitFor('an empty primary pool', () => db.stats().nodes[0]!.pool.free === 0);
    broken.set('primary', 'paused');
    await cluster.pause('primary');
    const t = Date.now();
    const err = await db('hc_load').insert({ run: 0, worker: -4, seq: 0 }).then(() => undefined, (e: unknown) => e as SplitKnexError);
    const took = Date.now() - t;
    const read = await db.first(db.raw('pg_is_in_recovery() as standby'));
    await cluster.resume('primary');
    broken.delete('primary');
    console.log(`[figures] primary paused (SIGSTOP): write failed with ${err?.code} after ${took} ms (connectTimeoutMs 1000), cause=${JSON.stringify(String((err?.cause as Error)?.message ?? ''))}, a read meanwhile on a standby=${read.standby}`);
    expect(err?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect((err?.cause as Error | undefined)?.message ?? '').to.match(/timeout/i); // the connect timeout ended it, not a hang
    expect(read.standby).to.equal(true);
  });

  it('a primary listed with several hosts connects to the one answering read-write', async () => {
    const p = cluster.primary;
    const r1 = cluster.node('replica1');
    const t = Date.now();
    const db = makeDb({ connection: `postgres://${p.user}@127.0.0.1:${r1.port},127.0.0.1:${p.port}/${p.database}` });
    const res = await db.raw("insert into hc_roles (note) values ('multi-host') returning inet_server_port() as port, pg_is_in_recovery() as standby");
    console.log(`[figures] multi-host primary (replica1 listed first): first write landed on ${nameOf(res.rows[0].port)} (standby=${res.rows[0].standby}) ${Date.now() - t} ms after splitKnex()`);
    expect(nameOf(res.rows[0].port)).to.equal('primary');
    await ready(db);
    expect((db.stats().health as any).primaryHost).to.equal(`127.0.0.1:${p.port}`);
  });

  // Irreversible: the old primary is gone afterwards. Keep it last.
  it('promotion: with discoverRoles writes follow the promoted replica; without it they fail explicitly; a multi-host primary follows too', async () => {
    const p = cluster.primary;
    const r1 = cluster.node('replica1');
    const follow = makeDb({ discoverRoles: true });
    const fixed = makeDb();
    const multi = makeDb({ connection: `postgres://${p.user}@127.0.0.1:${p.port},127.0.0.1:${r1.port}/${p.database}` });
    const followEvents = record(follow);
    const multiEvents = record(multi);
    await Promise.all([ready(follow), ready(fixed), ready(multi)]);

    const promotedAt = Date.now();
    await cluster.promote('replica1');
    const roleChange = await waitFor('replica1 seen as a primary', () => event(followEvents, 'role-change', 'replica1'));
    // Split brain for now: the configured primary still answers read-write and keeps the writes;
    // replica1 is no longer read from (its data no longer follows the primary).
    const writeBefore = await follow.raw("insert into hc_roles (note) values ('before') returning inet_server_port() as port");
    expect(nameOf(writeBefore.rows[0].port)).to.equal('primary');
    const readsNow = await Promise.all(Array.from({ length: 8 }, () => follow.first(follow.raw('inet_server_port() as port'))));
    expect(readsNow.map((row: any) => nameOf(row.port))).to.not.include('replica1');

    const stoppedAt = await stop('primary');
    broken.delete('primary'); // The cluster is not healed after this test: it is destroyed.
    const firstWrite = async (db: SplitKnex, tag: string) => waitFor(`a write on the new primary (${tag})`, () =>
      db.raw('insert into hc_roles (note) values (?) returning inet_server_port() as port, pg_is_in_recovery() as standby', [tag])
        .then((res: any) => ({ at: Date.now(), row: res.rows[0] }), () => undefined), 30_000);
    const [a, c] = await Promise.all([firstWrite(follow, 'follow'), firstWrite(multi, 'multi')]);
    const failover = followEvents.find((e) => e.event === 'failover');
    const hostFailover = multiEvents.find((e) => e.event === 'failover');
    expect(nameOf(a.row.port)).to.equal('replica1');
    expect(a.row.standby).to.equal(false);
    expect(nameOf(c.row.port)).to.equal('replica1');
    const onReplica1 = await cluster.query('replica1', "select count(*)::int as n from hc_roles where note in ('follow', 'multi')");
    expect(onReplica1[0].n).to.be.at.least(2);
    expect(failover?.payload).to.include({ from: 'primary', to: 'replica1' });
    expect(hostFailover?.payload).to.include({ fromHost: `127.0.0.1:${p.port}`, toHost: `127.0.0.1:${r1.port}` });

    // Without discoverRoles: an explicit, typed error, never a silent write elsewhere.
    await waitFor('the fixed instance to see the primary down', () => (fixed.stats().health as any).nodes.primary.state === 'down');
    const fixedErr = await fixed('hc_roles').insert({ note: 'fixed' }).then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(fixedErr?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    const read = await follow.first(follow.raw('inet_server_port() as port, pg_is_in_recovery() as standby'));
    console.log(`[figures] promotion: role change seen ${roleChange.at - promotedAt} ms after promote() was called; failover time with discoverRoles=${a.at - stoppedAt} ms from stop to first write on replica1 (failover event at ${failover ? failover.at - stoppedAt : 'n/a'} ms, reason ${JSON.stringify(failover?.payload.reason)}), multi-host primary=${c.at - stoppedAt} ms (event at ${hostFailover ? hostFailover.at - stoppedAt : 'n/a'} ms); without discoverRoles: ${fixedErr?.code} "${fixedErr?.message}"; reads continue on ${nameOf(read.port)} (standby=${read.standby})`);
    expect(read.standby).to.equal(true);
  });
});

function distinct(messages: string[]): string[] {
  return [...new Set(messages.map((m) => m.slice(0, 300)))].slice(0, 5);
}

// A port nothing listens on (connections to it are refused).
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function gaps(times: number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.slice(1).map((t, i) => t - sorted[i]!);
}
