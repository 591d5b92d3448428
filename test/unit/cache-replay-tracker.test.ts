import { expect } from 'chai';
import { ReplayTracker } from '../../lib/cache/replay-tracker';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';

// The cache's lag guard: what it knows of each node's replay position, and when it forgets.
describe('cache ReplayTracker', () => {
  const client = {} as KnexClient;
  // A background link whose answers the test releases one by one.
  function link() {
    const waiting: Array<(lsn: string) => void> = [];
    const query = () => new Promise<{ rows: Array<{ lsn: string }> }>((resolve) => waiting.push((lsn) => resolve({ rows: [{ lsn }] })));
    return { of: () => ({ query }), answer: async (lsn: string) => { waiting.shift()!(lsn); await new Promise((r) => setImmediate(r)); }, get asked() { return waiting.length; } };
  }

  it('learns a bound by polling and answers from it', async () => {
    const l = link();
    const tracker = new ReplayTracker(l.of as never, { minIntervalMs: 0 });
    const node = new Node('r1', 'replica', 1, client);
    expect(tracker.hasReplayed(node, 100n)).to.equal(false);
    await l.answer('150');
    expect(tracker.replayed(node)).to.equal(150n);
    expect(tracker.hasReplayed(node, 100n)).to.equal(true);
  });

  it('a node whose role changed (a failover) starts from nothing, and a poll from before does not count', async () => {
    const l = link();
    const tracker = new ReplayTracker(l.of as never, { minIntervalMs: 0 });
    const node = new Node('old-primary', 'primary', 1, client);
    expect(tracker.hasReplayed(node, 500n)).to.equal(false);
    await l.answer('900'); // its insert position as a primary
    expect(tracker.hasReplayed(node, 500n)).to.equal(true);
    expect(tracker.hasReplayed(node, 1000n)).to.equal(false); // a poll in flight, taken as a primary
    node.role = 'replica'; // rewound, back as a standby: its WAL may now end before 900
    expect(tracker.replayed(node)).to.equal(0n);
    await l.answer('1200'); // the old poll answers: it was asked of the primary
    expect(tracker.replayed(node)).to.equal(0n);
    expect(tracker.hasReplayed(node, 500n)).to.equal(false);
    await l.answer('400');
    expect(tracker.replayed(node)).to.equal(400n);
  });

  it('a new writer voids every bound (a replica ahead of the promoted one rewinds)', async () => {
    const l = link();
    let writer = new Node('p1', 'primary', 1, client);
    const tracker = new ReplayTracker(l.of as never, { minIntervalMs: 0, writer: () => writer });
    const node = new Node('r1', 'replica', 1, client);
    tracker.hasReplayed(node, 10n);
    await l.answer('800');
    expect(tracker.hasReplayed(node, 700n)).to.equal(true);
    writer = new Node('p2', 'primary', 1, client);
    expect(tracker.replayed(node)).to.equal(0n);
    expect(tracker.hasReplayed(node, 700n)).to.equal(false);
    await l.answer('650');
    expect(tracker.replayed(node)).to.equal(650n);
  });

  it('forgets a node that left', async () => {
    const l = link();
    const tracker = new ReplayTracker(l.of as never, { minIntervalMs: 0 });
    const node = new Node('r2', 'replica', 1, client);
    tracker.hasReplayed(node, 10n);
    await l.answer('50');
    tracker.forget(node);
    expect(tracker.replayed(node)).to.equal(0n);
  });
});
