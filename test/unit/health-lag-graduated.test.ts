import { expect } from 'chai';
import { ConsistencyCounters } from '../../lib/consistency/consistency-counters';
import { normalizeConsistencyConfig } from '../../lib/consistency/consistency-config';
import { LagPolicy } from '../../lib/consistency/lag-policy';
import type { ReplicaLag, ReplicaPositions } from '../../lib/consistency/replica-positions';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';
import type { Statement } from '../../lib/route/statement';

const read: Statement = { kind: 'query', method: 'select', sql: 'select 1', lock: undefined, hint: undefined, table: undefined };

function setup(minReplicas: number, hysteresisMs = 1000) {
  const client = {} as KnexClient;
  const r1 = new Node('r1', 'replica', 1, client);
  const r2 = new Node('r2', 'replica', 1, client);
  const r3 = new Node('r3', 'replica', 1, client);
  const lag = new Map<Node, ReplicaLag>([[r1, { ms: 0, bytes: 0 }], [r2, { ms: 0, bytes: 0 }], [r3, { ms: 0, bytes: 0 }]]);
  const positions = { lag: (n: Node) => lag.get(n)! } as unknown as ReplicaPositions;
  let t = 0;
  const options = normalizeConsistencyConfig({ lag: { maxLagMs: 500 } }, { now: () => t, setTimeout, clearTimeout } as never);
  const policy = new LagPolicy(options, positions, new ConsistencyCounters(), new WeakSet(), () => false, { minReplicas, hysteresisMs, now: () => t });
  const nodes = [r1, r2, r3];
  const serving = (): string[] => {
    const v = policy.check(read, nodes);
    if (v === undefined) return nodes.map((n) => n.name);
    if (typeof v === 'function') return nodes.filter(v).map((n) => n.name);
    return [String(v)];
  };
  return { r1, r2, r3, lag, policy, serving, advance: (ms: number) => { t += ms; } };
}

describe('lag policy, graduated (minReplicas, hysteresis; driven clock)', () => {
  it('skips a lagging replica and re-admits it, with at most one transition per hysteresis period while its lag flaps', () => {
    const s = setup(1, 1000);
    expect(s.serving()).to.deep.equal(['r1', 'r2', 'r3']);
    s.lag.set(s.r1, { ms: 900, bytes: 10 });
    expect(s.serving()).to.deep.equal(['r2', 'r3']); // first transition: at once
    // Its lag flaps around the threshold every 100 ms for 3 s.
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) {
      s.advance(100);
      s.lag.set(s.r1, { ms: i % 2 === 0 ? 100 : 900, bytes: 10 });
      seen.push(s.serving().includes('r1') ? 'in' : 'out');
    }
    const flips = seen.filter((v, i) => i > 0 && v !== seen[i - 1]).length;
    expect(s.policy.transitions).to.be.at.most(1 + 3); // the first, then one per elapsed period
    expect(flips).to.be.at.most(3);
    // Caught up for good: re-admitted within one period.
    s.lag.set(s.r1, { ms: 0, bytes: 0 });
    s.advance(1000);
    expect(s.serving()).to.include('r1');
  });

  it('keeps the least-lagged minReplicas serving when every replica lags, instead of sending every read to the primary', () => {
    const s = setup(2);
    s.lag.set(s.r1, { ms: 5000, bytes: 1 });
    s.lag.set(s.r2, { ms: 700, bytes: 1 });
    s.lag.set(s.r3, { ms: 2000, bytes: 1 });
    expect(s.serving()).to.deep.equal(['r2', 'r3']);
    expect(s.policy.keptLaggingReads).to.equal(1);
  });

  it('with minReplicas 0 and every replica lagging, onExceeded decides as before (the primary)', () => {
    const s = setup(0);
    for (const n of [s.r1, s.r2, s.r3]) s.lag.set(n, { ms: 5000, bytes: 1 });
    expect(s.serving()[0]).to.match(/^lag: every replica is too far behind/);
  });
});
