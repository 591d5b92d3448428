import { codeOf, tally } from '../support/patroni/error-tally';
import { expect } from 'chai';
import { splitKnex, type SplitKnex } from '../../lib';
import { sleep } from '../support/cluster/poll';
import { PatroniCluster, WriteProbe, type PatroniMember } from '../support/patroni';

// Baseline of today's library against a cluster that fails over by itself: Patroni elects
// a new leader after SIGKILL of the leader's machine (Patroni and PostgreSQL). The user's
// best configuration today: every node listed, discoverRoles, a 250 ms probe, default
// consistency. What holds today is asserted (no acknowledged write is lost; writes resume
// on the new leader); failed reads and writes are reported, to be tightened once split-knex
// follows the topology sources. The cluster runs Patroni's synchronous_mode: with
// asynchronous replication a SIGKILL can take the old leader's last acknowledged commits
// with it (PostgreSQL's behaviour, not split-knex's), and "no acknowledged write lost"
// would judge the replication instead of the library.

const WORKERS = 8;
const WRITE_RATIO = 0.3;
const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

interface Outcome { start: number; end: number; port?: number; error?: string }

describe('Patroni lane: leader SIGKILLed under 8 workers of reads and writes (baseline, today\'s library)', function () {
  this.timeout(120_000);
  let cluster: PatroniCluster;
  let db: SplitKnex | undefined;
  let probe: WriteProbe | undefined;

  before(async () => {
    cluster = await PatroniCluster.start({ members: 3 });
    await cluster.setSynchronousMode(true);
    const leader = await cluster.waitForStreaming();
    await cluster.query(leader.name, 'create table lane_load (worker int not null, seq int not null, primary key (worker, seq))');
    await cluster.query(leader.name, 'create table lane_probe (at timestamptz not null default now(), member text not null)');
    await cluster.waitForStreaming();
  });
  after(async () => {
    await probe?.stop();
    await db?.destroy();
    await cluster?.destroy();
  });

  it('loses no acknowledged write, and writes succeed again on the leader Patroni promoted', async () => {
    const old = (await cluster.leader()) as PatroniMember;
    const others = cluster.memberList.filter((m) => m !== old);
    db = splitKnex({
      client: 'pg',
      connection: old.pgUrl,
      replicas: others.map((m) => ({ name: m.name, connection: m.pgUrl })),
      pool: { min: 0, max: WORKERS },
      discoverRoles: true,
      health: { intervalMs: 250 },
      log: QUIET,
    });
    const nameOf = (port: number | undefined) => cluster.memberList.find((m) => m.pgPort === Number(port))?.name ?? `port ${port}`;
    probe = WriteProbe.start(others, 'lane_probe');

    const reads: Outcome[] = [];
    const writes: Array<Outcome & { worker: number; seq: number }> = [];
    let stopping = false;
    const loops = Array.from({ length: WORKERS }, async (_, worker) => {
      for (let seq = 0; !stopping; seq++) {
        const start = Date.now();
        if (Math.random() < WRITE_RATIO) {
          try {
            const res = await db!.raw('insert into lane_load (worker, seq) values (?, ?) returning inet_server_port() as port', [worker, seq]);
            writes.push({ worker, seq, start, end: Date.now(), port: Number(res.rows[0].port) });
          } catch (err) {
            writes.push({ worker, seq, start, end: Date.now(), error: codeOf(err) });
          }
        } else {
          try {
            const row = await db!.first(db!.raw('inet_server_port() as port'), db!.raw('(select count(*) from lane_load where worker = ?) as n', [worker]));
            reads.push({ start, end: Date.now(), port: Number(row.port) });
          } catch (err) {
            reads.push({ start, end: Date.now(), error: codeOf(err) });
          }
        }
      }
    });

    await sleep(2000);
    probe.arm();
    const killed = await cluster.killLeader();
    expect(killed.name).to.equal(old.name);
    const patroniFirst = await probe.waitForFirstWrite(60_000);
    const promoted = await cluster.waitForLeader({ not: old.name });
    expect(patroniFirst.member).to.equal(promoted.name);
    // Keep the load until split-knex has written on the new leader, and 2 s more.
    const deadline = Date.now() + 30_000;
    let skFirst: Outcome | undefined;
    while (!skFirst && Date.now() < deadline) {
      await sleep(20);
      skFirst = writes.filter((w) => w.port === promoted.pgPort).sort((a, b) => a.end - b.end)[0];
    }
    await sleep(2000);
    stopping = true;
    await Promise.all(loops);

    const acked = writes.filter((w) => w.error === undefined);
    const held = new Set((await cluster.query(promoted.name, 'select worker, seq from lane_load')).map((r) => `${r.worker}:${r.seq}`));
    const lost = acked.filter((w) => !held.has(`${w.worker}:${w.seq}`));
    const failedReads = reads.filter((r) => r.error !== undefined);
    const failedWrites = writes.filter((w) => w.error !== undefined);
    const afterKill = writes.filter((w) => w.start >= killed.at);
    const h = db.stats().health as { retries?: number } | undefined;
    console.log(
      `[figures] patroni leader kill (${old.name} -> ${promoted.name}, ${WORKERS} workers, ${WRITE_RATIO * 100}% writes): ` +
        `Patroni's new leader accepted a write ${patroniFirst.at - killed.at} ms after the kill; ` +
        `first split-knex write on it ${skFirst ? `${skFirst.end - patroniFirst.at} ms after that` : 'never'}; ` +
        `reads failed=${failedReads.length}/${reads.length} ${tally(failedReads)}; writes failed=${failedWrites.length}/${writes.length} ${tally(failedWrites)} ` +
        `(${afterKill.filter((w) => w.error !== undefined).length} of the ${afterKill.length} issued after the kill); ` +
        `acknowledged writes lost=${lost.length}/${acked.length}; retries=${h?.retries ?? 'n/a'}; ` +
        `reads served after the kill by ${tally(reads.filter((r) => r.start >= killed.at && r.port !== undefined).map((r) => ({ error: nameOf(r.port) })))}`,
    );
    expect(lost.map((w) => `${w.worker}:${w.seq} on ${nameOf(w.port)}`)).to.deep.equal([]);
    expect(skFirst, 'a split-knex write landed on the new leader').to.not.equal(undefined);
    expect(nameOf(acked.sort((a, b) => b.end - a.end)[0]?.port)).to.equal(promoted.name);
  });
});

