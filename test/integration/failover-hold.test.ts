import { expect } from 'chai';
import { SplitKnexError, splitKnex, type SplitKnex, type SplitKnexConfig } from '../../lib';
import { startCluster, type Cluster } from '../support/cluster';
import { until } from '../support/until';

// A failover under traffic on throwaway clusters (promotion cannot be undone): writes held
// for the new primary, a write lost in flight reported as such, reads that had to see the
// primary retried elsewhere, and a writer's 25006 acted on at once.

const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('failover: held writes, unknown outcomes, reads off a dead writer, 25006 from the writer', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  const open: SplitKnex[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.destroy()));
    await cluster?.destroy();
    cluster = undefined;
  });

  function makeDb(c: Cluster, extra: Partial<SplitKnexConfig>): SplitKnex {
    const db = splitKnex({
      client: 'pg', connection: c.primary.url,
      replicas: c.replicas.map((r) => ({ name: r.name, connection: r.url })),
      pool: { min: 0, max: 8 }, log: QUIET, catalog: false, discoverRoles: true,
      ...extra,
    } as SplitKnexConfig);
    open.push(db);
    return db;
  }
  const nameOf = (c: Cluster, port: number) => c.nodes.find((n) => n.port === Number(port))?.name ?? `port ${port}`;

  it('primary lost under load, replica promoted: with holdWritesMs no write issued after the loss fails, no read fails, a write in flight fails ESPLIT_WRITE_UNKNOWN and is not replayed', async () => {
    const c = (cluster = await startCluster({ replicas: 2, settings: { synchronous_commit: 'on' } }));
    await c.query('primary', 'create table fh (worker int, seq int, primary key (worker, seq))');
    await c.query('primary', 'create table fh_slow (tag text)');
    await c.waitForReplication();
    // replica1, the one promoted, is a synchronous standby: every commit the old primary
    // acknowledged is on it, so an acknowledged write missing after the failover is split-knex's
    // doing. (With asynchronous replication, an immediate stop may lose the last acknowledged
    // commits to the promotion: PostgreSQL's behaviour, seen 1 in 853 once.) Set on the primary
    // only: the promoted replica1 must not wait for a standby of its own.
    await c.query('primary', "alter system set synchronous_standby_names = 'replica1'");
    await c.query('primary', 'select pg_reload_conf()');
    await until(() => c.query<{ sync_state: string }>('primary', "select sync_state from pg_stat_replication where application_name = 'replica1'"),
      (rows) => rows[0]?.sync_state === 'sync', 'replica1 as a synchronous standby');
    const db = makeDb(c, { health: { intervalMs: 250, timeoutMs: 1000, connectTimeoutMs: 1000 }, failover: { holdWritesMs: 15_000 } });
    await db.ready();

    // A write that is running when the primary dies.
    const inFlight = db.raw("insert into fh_slow (tag) select 'in-flight' from pg_sleep(3)").then(() => undefined, (e: unknown) => e as SplitKnexError);
    let stop = false;
    let deadAt = Infinity;
    const failures: Array<{ kind: string; code: string; after: boolean }> = [];
    const acked: string[] = [];
    const workers = Array.from({ length: 6 }, async (_, w) => {
      for (let seq = 0; !stop; seq++) {
        const start = Date.now();
        const write = seq % 3 === 0;
        try {
          if (write) {
            await db('fh').insert({ worker: w, seq });
            acked.push(`${w}:${seq}`);
          } else {
            await db('fh').where({ worker: w }).count();
          }
        } catch (err) {
          failures.push({ kind: write ? 'write' : 'read', code: (err as { code?: string }).code ?? String(err), after: start > deadAt });
        }
      }
    });
    await sleep(800);
    const lostAt = Date.now();
    await c.stop('primary', 'immediate');
    // Writes that started before this may have been in flight when the primary died.
    deadAt = Date.now();
    await sleep(1500); // writes pile up, held
    await c.promote('replica1');
    const promotedAt = Date.now();
    let firstWrite: number | undefined;
    while (firstWrite === undefined && Date.now() - promotedAt < 15_000) {
      const res = await db.raw('insert into fh (worker, seq) values (-1, ?) returning inet_server_port() as port', [Date.now() % 1e9]).catch(() => undefined);
      if (res !== undefined) firstWrite = Date.now();
    }
    await sleep(500);
    stop = true;
    await Promise.all(workers);
    const unknown = await inFlight;

    const held = new Set((await c.query('replica1', 'select worker, seq from fh')).map((r: any) => `${r.worker}:${r.seq}`));
    const lost = acked.filter((k) => !held.has(k));
    const replayed = await c.query('replica1', "select count(*)::int as n from fh_slow where tag = 'in-flight'");
    const h = db.stats().health;
    console.log(`[figures] primary stopped, replica1 promoted ${promotedAt - lostAt} ms later: first write on it ${firstWrite === undefined ? 'never' : `${firstWrite - promotedAt} ms`} after promote() resolved; `
      + `failures ${JSON.stringify(failures)}; held=${h.hold.held} released=${h.hold.released} timedOut=${h.hold.timedOut}; writerReadRetries=${h.writerReadRetries}; acked=${acked.length} lost=${lost.length}`);
    expect(unknown?.code).to.equal('ESPLIT_WRITE_UNKNOWN');
    expect(unknown?.node).to.equal('primary');
    expect(replayed[0].n).to.equal(0);
    expect(failures.filter((f) => f.kind === 'read')).to.deep.equal([]);
    // Writes sent before the loss may have been in flight (outcome unknown); none issued after it failed.
    expect(failures.filter((f) => f.after)).to.deep.equal([]);
    expect(failures.every((f) => f.code === 'ESPLIT_WRITE_UNKNOWN')).to.equal(true);
    expect(lost).to.deep.equal([]);
    expect(h.writer).to.equal('replica1');
    expect(h.hold.released).to.be.greaterThan(0);
  });

  it("a writer's 25006 re-probes at once: with holdWritesMs the write runs on the promoted node; without it, ESPLIT_PRIMARY_DOWN and the next write finds the new writer", async () => {
    const c = (cluster = await startCluster({ replicas: 2 }));
    await c.query('primary', 'create table fr (tag text)');
    await c.waitForReplication();
    // One probe a minute: only the 25006 can make split-knex look again in time.
    const health = { intervalMs: 60_000, timeoutMs: 1000 };
    const held = makeDb(c, { health, failover: { holdWritesMs: 5000 } });
    const plain = makeDb(c, { health });
    await Promise.all([held.ready(), plain.ready()]);
    await held('fr').insert({ tag: 'warm' });
    await plain('fr').insert({ tag: 'warm' });

    await c.promote('replica1');
    // The old primary refuses writes from now on (25006), as a demoted node would.
    await c.query('primary', 'alter system set default_transaction_read_only = on');
    await c.query('primary', 'select pg_reload_conf()');
    await sleep(200);

    const res = await held.raw("insert into fr (tag) values ('held') returning inet_server_port() as port");
    expect(nameOf(c, res.rows[0].port)).to.equal('replica1');
    expect(held.stats().health.writer).to.equal('replica1');

    const err = await plain('fr').insert({ tag: 'plain' }).then(() => undefined, (e: unknown) => e as SplitKnexError);
    expect(err?.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect(err?.message).to.match(/refused a write as read-only/);
    const again = await plain.raw("insert into fr (tag) values ('plain-again') returning inet_server_port() as port");
    expect(nameOf(c, again.rows[0].port)).to.equal('replica1');
  });
});
