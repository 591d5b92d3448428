import { expect } from 'chai';
import { normalizeConfig, type SplitKnexConfig } from '../../lib/config';
import type { SplitKnexStats } from '../../lib/stats';
import { configError } from '../support/expect-config-error';

// Each `@ts-expect-error` below is checked by `npm run typecheck`: if a typo compiled (an
// index signature crept back, a section type opened up), the unused directive fails the
// build. The same configs are then run, to prove the run-time check agrees.
const url = 'postgres://app@p:5432/app';

describe('config types: typos fail to compile (npm run typecheck) and to run', () => {
  it('a fully spelt config compiles and runs', () => {
    const ok: SplitKnexConfig = {
      client: 'pg', connection: url, pool: { min: 0, max: 4 },
      replicas: ['postgres://r1/app', { name: 'r2', connection: { host: 'r2', port: 5433 }, weight: 2 }, { host: 'r3', user: 'app' }],
      routing: { strategy: 'least-busy', fallback: 'error' }, sticky: { mode: 'lsn', maxWaitMs: 10 }, lag: { maxLagMs: 500 },
      consistency: { scope: 'global' }, health: { intervalMs: 500 }, discoverRoles: true, catalog: { refreshMs: 0 },
      cache: { max: 10, ttlMs: 1000 }, clock: { now: () => 0 },
    };
    expect(normalizeConfig(ok).replicas.map((r) => r.name)).to.deep.equal(['r1:5432', 'r2', 'r3:5432']);
  });

  it('misspelt keys at every level are compile errors and ESPLIT_CONFIG errors', () => {
    const typos: SplitKnexConfig[] = [
      // @ts-expect-error a misspelt top-level section
      { client: 'pg', connection: url, stikcy: { mode: 'lsn' } },
      // @ts-expect-error a misspelt top-level section
      { client: 'pg', connection: url, helth: 5 },
      // @ts-expect-error a misspelt health option
      { client: 'pg', connection: url, health: { intervalMS: 5 } },
      // @ts-expect-error a misspelt sticky option
      { client: 'pg', connection: url, sticky: { mdoe: 'lsn' } },
      // @ts-expect-error a misspelt lag option
      { client: 'pg', connection: url, lag: { maxLag: 5 } },
      // @ts-expect-error a misspelt routing option
      { client: 'pg', connection: url, routing: { stratgy: 'random' } },
      // @ts-expect-error a misspelt catalog option
      { client: 'pg', connection: url, catalog: { refresh: 5 } },
      // @ts-expect-error a misspelt cache option
      { client: 'pg', connection: url, cache: { max: 1, ttlMs: 1, stratgy: 'all' } },
      // @ts-expect-error a misspelt consistency option
      { client: 'pg', connection: url, consistency: { scop: 'none' } },
      // @ts-expect-error a typo inside a replica entry
      { client: 'pg', connection: url, replicas: [{ name: 'x', conection: 'postgres://r/app' }] },
      // @ts-expect-error a replica entry key mixed into a bare connection object
      { client: 'pg', connection: url, replicas: [{ name: 'x', host: 'r1' }] },
      // @ts-expect-error a typo in a bare replica connection object
      { client: 'pg', connection: url, replicas: [{ hots: 'r1' }] },
      // @ts-expect-error a typo in a replica entry's connection object
      { client: 'pg', connection: url, replicas: [{ connection: { hots: 'r1' } }] },
      // @ts-expect-error a clock that is not one
      { client: 'pg', connection: url, clock: 42 },
    ];
    for (const config of typos) configError(() => normalizeConfig(config));
  });
});

// Type-level only: strict users read stats() sections without casts, and a misspelt section fails.
export function readStatsWithoutCasts(s: SplitKnexStats): Array<string | number | boolean | null> {
  // @ts-expect-error a misspelt stats section
  void s.helth;
  return [s.health.enabled, s.consistency.effectiveMode, s.catalog.state, s.cache?.hits ?? null, s.totals.replica.reads];
}
