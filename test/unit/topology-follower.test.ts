import { expect } from 'chai';
import type { NormalizedClock } from '../../lib/clock';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';
import { NodeSet } from '../../lib/route/node-set';
import { TopologyFollower } from '../../lib/topology/topology-follower';
import type { PlannedStop, Topology, TopologyMember } from '../../lib/topology/topology-source';

const client = {} as KnexClient;
const member = (name: string, port: number, role: 'primary' | 'replica', state = 'running'): TopologyMember => ({ name, host: '10.0.0.1', port, role, state });

function setup(answers: Array<Topology | Error>) {
  const primary = new Node('n1', 'primary', 1, client);
  const n2 = new Node('n2', 'replica', 1, client);
  const nodes = new NodeSet(primary, [n2]);
  const address = new Map<Node, string>([[primary, '10.0.0.1:5432'], [n2, '10.0.0.1:5433']]);
  const delays: number[] = [];
  const timers: Array<() => void> = [];
  const clock: NormalizedClock = {
    now: () => 0,
    setTimeout: (fn: () => void, ms: number) => { delays.push(ms); timers.push(fn); return timers.length; },
    clearTimeout: () => undefined,
  };
  const announced: Array<Array<[string, PlannedStop]>> = [];
  let i = 0;
  const follower = new TopologyFollower({
    source: { kind: 'fake', read: async () => { const a = answers[Math.min(i++, answers.length - 1)]!; if (a instanceof Error) throw a; return a; } },
    nodes,
    intervalMs: 1000,
    clock,
    addressOf: (n) => address.get(n),
    createNode: (m, name) => new Node(name, 'replica', 1, client),
    retire: async () => undefined,
    writer: () => primary,
    emit: () => undefined,
    plannedStops: (stops) => announced.push([...stops].map(([n, s]) => [n.name, s])),
  });
  // Runs the next read (the timer the follower set after the last one).
  const next = async () => { timers.shift()!(); await new Promise((r) => setImmediate(r)); };
  return { follower, nodes, delays, announced, next };
}

describe('topology: TopologyFollower', () => {
  it("passes a stop the source announces on to the instance by node, and drops it when the source stops announcing it or fails", async () => {
    const stop: PlannedStop = { member: 'n1', at: 5000, reason: 'switchover to n2 scheduled' };
    const members = [member('n1', 5432, 'primary'), member('n2', 5433, 'replica')];
    const { follower, announced, next } = setup([{ members, plannedStops: [stop] }, new Error('no Patroni answered'), { members, plannedStops: [stop] }, { members }]);
    follower.start();
    await follower.ready();
    expect(announced).to.deep.equal([[['n1', stop]]]);
    expect(follower.stats().plannedStops).to.deep.equal([{ node: 'n1', at: new Date(5000).toISOString(), reason: 'switchover to n2 scheduled' }]);
    await next();
    expect(announced[1]).to.deep.equal([]);
    await next();
    await next();
    expect(announced.slice(2)).to.deep.equal([[['n1', stop]], []]);
    await follower.stop();
  });

  it('reads the source five times as often while a member is starting or cloning, then at the configured period again', async () => {
    const serving = [member('n1', 5432, 'primary'), member('n2', 5433, 'replica')];
    const { follower, nodes, delays, next } = setup([
      { members: [...serving, member('n3', 5434, 'replica', 'creating replica')] },
      { members: [...serving, member('n3', 5434, 'replica', 'starting')] },
      { members: [...serving, member('n3', 5434, 'replica')] },
    ]);
    follower.start();
    await follower.ready();
    await next();
    await next();
    expect(delays).to.deep.equal([200, 200, 1000]);
    expect(nodes.byName('n3')).to.not.equal(undefined);
    await follower.stop();
  });
});
