import { expect } from 'chai';
import { normalizeConfig } from '../../lib/config';
import type { Node } from '../../lib/route/node';
import { createSelector } from '../../lib/route/replica-selector';
import { Router } from '../../lib/route/router';
import type { Statement } from '../../lib/route/statement';

// Nodes as the router sees them (no pools: routing only decides).
const fake = (name: string, role: 'primary' | 'replica', weight: number) =>
  ({ name, role, configuredRole: role, weight, state: 'up', inFlight: 0, available: true }) as unknown as Node;
const select: Statement = { kind: 'query', method: 'select', sql: 'select * from "t"', lock: undefined, hint: undefined, table: 't' };

function router(primaryWeight: number | undefined, strategy: 'round-robin' | 'least-busy' = 'round-robin') {
  const primary = fake('primary', 'primary', 0);
  const replicas = [fake('r1', 'replica', 1), fake('r2', 'replica', 1)];
  const r = new Router({
    primary, replicas, selector: createSelector(strategy), fallback: 'primary', forcePrimary: () => false, primaryWeight,
    classify: () => ({ access: 'read', reason: 'read (select)', tables: ['t'] }),
  });
  r.compose([], []);
  return r;
}

function tally(r: Router, n: number, statement = select): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = r.route(statement) as { node: Node };
    out[d.node.name] = (out[d.node.name] ?? 0) + 1;
  }
  return out;
}

describe('routing.primaryWeight: a read share for the primary', () => {
  it('is off by default: reads go to replicas only', () => {
    expect(tally(router(undefined), 30)).to.deep.equal({ r1: 15, r2: 15 });
  });

  it('puts the primary in the weighted rotation beside the replicas', () => {
    expect(tally(router(1), 30)).to.deep.equal({ r1: 10, r2: 10, primary: 10 });
    expect(tally(router(2), 40)).to.deep.equal({ r1: 10, r2: 10, primary: 20 });
  });

  it('never sends hinted reads (queryContext target replica) to the primary', () => {
    expect(tally(router(5), 20, { ...select, hint: 'replica' })).to.deep.equal({ r1: 10, r2: 10 });
  });

  it('least-busy across all nodes: the primary takes reads while it is the least loaded per weight', () => {
    const r = router(1, 'least-busy');
    r.replicas[0]!.inFlight = 3;
    r.replicas[1]!.inFlight = 2;
    expect((r.route(select) as { node: Node }).node.name).to.equal('primary');
  });

  it('is validated with the routing section: a finite number >= 0', () => {
    const base = { client: 'pg', connection: 'postgres://app@127.0.0.1/app', replicas: ['postgres://app@127.0.0.1:5433/app'] };
    expect(normalizeConfig({ ...base, routing: { primaryWeight: 0.5 } }).routing.primaryWeight).to.equal(0.5);
    expect(() => normalizeConfig({ ...base, routing: { primaryWeight: -1 } })).to.throw(/routing\.primaryWeight/);
  });
});
