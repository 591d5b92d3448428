import { expect } from 'chai';
import { PatroniTopology } from '../../lib/topology/patroni-topology';
import { ReplicationTopology } from '../../lib/topology/replication-topology';
import type { Topology, TopologySource } from '../../lib/topology/topology-source';
import { pollUntil } from '../support/cluster/poll';
import { PatroniCluster, type PatroniMember } from '../support/patroni';

// The topology sources against a real Patroni 3 + etcd cluster (3 members, ttl 5 s). The
// tests run in order on one cluster, each leaving it whole again (3 members, one leader,
// the others streaming): a lost machine, a planned switchover, a member added and removed.

describe('topology sources against a real Patroni cluster', function () {
  this.timeout(120_000);
  let cluster: PatroniCluster;

  before(async () => {
    cluster = await PatroniCluster.start({ members: 3 });
  });
  after(async () => {
    await cluster?.destroy();
  });

  const patroni = () => new PatroniTopology({ urls: cluster.restUrls, timeoutMs: 500 });
  const primaryOf = (t: Topology) => t.members.filter((m) => m.role === 'primary');
  const replication = (leader: PatroniMember) =>
    new ReplicationTopology({
      query: (sql) => cluster.query(leader.name, sql),
      primary: { name: leader.name, host: leader.host, port: leader.pgPort },
      hosts: Object.fromEntries(cluster.memberList.map((m) => [m.name, { host: m.host, port: m.pgPort }])),
    });

  /** Reads `source` until `predicate` holds; resolves with that topology. */
  async function readUntil(source: TopologySource, what: string, predicate: (t: Topology) => boolean, timeoutMs = 30_000): Promise<Topology> {
    let last: Topology | undefined;
    await pollUntil(async () => predicate((last = await source.read())), { timeoutMs, intervalMs: 100, what, describe: () => `last: ${JSON.stringify(last)}` });
    return last as Topology;
  }

  it("reports Patroni's leader as the one primary and every other member as a running replica with its lag", async () => {
    const leader = await cluster.waitForStreaming();
    const { members } = await patroni().read();
    expect(primaryOf({ members }).map((m) => [m.name, m.port, m.state])).to.deep.equal([[leader.name, leader.pgPort, 'running']]);
    const replicas = members.filter((m) => m.role === 'replica');
    expect(replicas.map((m) => m.name).sort()).to.deep.equal(cluster.memberList.filter((m) => m !== leader).map((m) => m.name).sort());
    for (const r of replicas) {
      expect(r).to.include({ host: '127.0.0.1', state: 'running' });
      expect(r.lagBytes).to.be.a('number');
      expect(r.timeline).to.equal(members.find((m) => m.role === 'primary')?.timeline);
    }
  });

  it("reports the same members from the leader's pg_stat_replication, each streaming at its own address", async () => {
    const leader = await cluster.waitForStreaming();
    const { members } = await replication(leader).read();
    expect(members.map((m) => [m.name, m.role])).to.have.deep.members(cluster.memberList.map((m) => [m.name, m === leader ? 'primary' : 'replica']));
    for (const r of members.filter((m) => m.role === 'replica')) {
      expect(r.state).to.equal('streaming');
      expect(r.port).to.equal(cluster.member(r.name).pgPort);
    }
  });

  it('after SIGKILL of the leader, reports the member Patroni promoted (never two primaries), and the old leader back as a replica', async () => {
    const source = patroni();
    const killed = await cluster.killLeader();
    // Until its lease expires Patroni still lists the dead leader; the source passes that on.
    const after = await readUntil(source, 'a new primary in /cluster', (t) => primaryOf(t).some((m) => m.name !== killed.name));
    expect(primaryOf(after)).to.have.length(1);
    const promoted = await cluster.waitForLeader({ not: killed.name });
    expect(primaryOf(after)[0]?.name).to.equal(promoted.name);
    const [row] = await cluster.query(promoted.name, 'select pg_is_in_recovery() as r');
    expect(row.r).to.equal(false);

    // The killed member's own REST URL is asked first and refuses: the source moves on.
    const fromDeadFirst = new PatroniTopology({ urls: [cluster.member(killed.name).apiUrl, ...cluster.restUrls], timeoutMs: 500 });
    expect(primaryOf(await fromDeadFirst.read())[0]?.name).to.equal(promoted.name);
    // The old primary's pg_stat_replication source now fails; one on the new leader works.
    expect((await replication(promoted).read()).members.find((m) => m.role === 'primary')?.name).to.equal(promoted.name);

    await cluster.startMember(killed.name);
    const healed = await readUntil(source, `${killed.name} back as a running replica`, (t) =>
      t.members.some((m) => m.name === killed.name && m.role === 'replica' && m.state === 'running'),
    );
    expect(primaryOf(healed).map((m) => m.name)).to.deep.equal([promoted.name]);
  });

  it('after a planned switchover through the REST API, reports the candidate as the primary', async () => {
    const before = await cluster.waitForStreaming();
    const candidate = cluster.memberList.find((m) => m !== before) as PatroniMember;
    const { from, to } = await cluster.switchover(candidate.name);
    expect([from, to]).to.deep.equal([before.name, candidate.name]);
    const seen = await readUntil(patroni(), `${to} as primary`, (t) => primaryOf(t).some((m) => m.name === to && m.state === 'running'));
    expect(primaryOf(seen)).to.have.length(1);
    await cluster.waitForStreaming();
  });

  it('shows a member added at run time once it runs, and drops it once it is removed', async () => {
    const source = patroni();
    const added = await cluster.addMember();
    const withIt = await source.read();
    expect(withIt.members.find((m) => m.name === added.name)).to.deep.include({ role: 'replica', state: 'running', port: added.pgPort });
    const leader = await cluster.waitForStreaming();
    expect((await replication(leader).read()).members.map((m) => m.name)).to.include(added.name);

    await cluster.removeMember(added.name); // Resolves once /cluster no longer lists it (≈ ttl).
    const without = await source.read();
    expect(without.members.map((m) => m.name)).to.not.include(added.name);
    expect(without.members).to.have.length(3);
    expect((await replication(leader).read()).members.map((m) => m.name)).to.not.include(added.name);
  });
});
