import { expect } from 'chai';
import type { NodeInfo } from '../../lib/route/node';
import { createSelector, LeastBusySelector, RandomSelector, RoundRobinSelector } from '../../lib/route/replica-selector';
import type { Statement } from '../../lib/route/statement';

const stmt: Statement = { kind: 'query', method: 'select', sql: 'select 1', lock: undefined, hint: undefined, table: undefined };
const node = (name: string, weight = 1, inFlight = 0): NodeInfo => ({ name, role: 'replica', weight, state: 'up', inFlight });

function tally(pick: () => NodeInfo | undefined, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const p = pick()!;
    out[p.name] = (out[p.name] ?? 0) + 1;
  }
  return out;
}

describe('replica selectors', () => {
  it('round-robin alternates evenly with equal weights', () => {
    const s = new RoundRobinSelector();
    const nodes = [node('a'), node('b'), node('c')];
    expect(Array.from({ length: 6 }, () => s.select(nodes, stmt)!.name)).to.deep.equal(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('round-robin honours weights exactly over a cycle and interleaves', () => {
    const s = new RoundRobinSelector();
    const nodes = [node('a', 2), node('b', 1)];
    const order = Array.from({ length: 6 }, () => s.select(nodes, stmt)!.name);
    expect(order).to.deep.equal(['a', 'b', 'a', 'a', 'b', 'a']);
  });

  it('random honours weights (seeded)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const s = new RandomSelector(rnd);
    const t = tally(() => s.select([node('a', 3), node('b', 1)]), 4000);
    expect(t.a! / 4000).to.be.within(0.7, 0.8);
  });

  it('least-busy picks the replica with the fewest queries in flight per weight', () => {
    const s = new LeastBusySelector();
    expect(s.select([node('a', 1, 3), node('b', 1, 1), node('c', 1, 2)], stmt)!.name).to.equal('b');
    expect(s.select([node('a', 4, 4), node('b', 1, 2)], stmt)!.name).to.equal('a');
    const t = tally(() => s.select([node('a'), node('b')], stmt), 10);
    expect(t).to.deep.equal({ a: 5, b: 5 });
  });

  it('least-busy (the default) honours weights when the replicas are equally busy: ties go weighted round-robin', () => {
    const s = new LeastBusySelector();
    const t = tally(() => s.select([node('a', 2), node('b', 1)], stmt), 3000);
    expect(t).to.deep.equal({ a: 2000, b: 1000 });
  });

  it('a user function may return a replica or its name; anything else is "none"', () => {
    const nodes = [node('a'), node('b')];
    expect(createSelector(() => 'b').select(nodes, stmt)!.name).to.equal('b');
    expect(createSelector((r) => r[0]).select(nodes, stmt)!.name).to.equal('a');
    expect(createSelector(() => 'zzz').select(nodes, stmt)).to.equal(undefined);
    expect(createSelector(() => undefined).select(nodes, stmt)).to.equal(undefined);
  });
});
