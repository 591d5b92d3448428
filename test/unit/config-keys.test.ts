import { expect } from 'chai';
import { normalizeConfig, type SplitKnexConfig } from '../../lib/config';
import { closestKey, KNEX_KEYS } from '../../lib/config-keys';
import { normalizeHealthConfig } from '../../lib/health/health-config';
import { normalizeConsistencyConfig } from '../../lib/consistency/consistency-config';
import { normalizeCatalogConfig } from '../../lib/catalog/catalog-config';
import { normalizeCacheConfig } from '../../lib/cache/cache-config';
import { configError } from '../support/expect-config-error';

// Configs that do not type-check on purpose: the run-time check is what is under test.
const loose = (extra: Record<string, unknown>): SplitKnexConfig =>
  ({ client: 'pg', connection: 'postgres://app@p:5432/app', ...extra }) as unknown as SplitKnexConfig;

describe('config keys: unknown keys fail at run time, naming the key', () => {
  it('rejects a misspelt top-level section, suggesting the key it is closest to', () => {
    const cases: Array<[string, string]> = [['stikcy', 'sticky'], ['helth', 'health'], ['replica', 'replicas'], ['Replicas', 'replicas'],
      ['catalgo', 'catalog'], ['routes', 'routing'], ['readReplicas', 'replicas'], ['conection', 'connection'], ['poool', 'pool']];
    for (const [typo, meant] of cases) {
      const e = configError(() => normalizeConfig(loose({ [typo]: 5 })));
      expect(e.message, typo).to.include(`"${typo}"`).and.include(`did you mean "${meant}"?`);
    }
  });

  it('rejects a top-level key that is neither knex\'s nor split-knex\'s, without a suggestion when none is near', () => {
    const e = configError(() => normalizeConfig(loose({ shardingStrategy: 'x' })));
    expect(e.message).to.include('"shardingStrategy" is not a knex or split-knex option').and.not.include('did you mean');
  });

  it('accepts every key knex 3 reads, so a knexfile entry passes unchanged', () => {
    const config: Record<string, unknown> = {};
    for (const k of KNEX_KEYS) config[k] = undefined;
    const n = normalizeConfig(loose({ ...config, client: 'pg', connection: 'postgres://p/app', debug: false, searchPath: ['app'], useNullAsDefault: true }));
    expect(n.knexConfig).to.include({ useNullAsDefault: true, debug: false });
  });

  it('rejects a typo inside a replica entry ({ name, conection }) naming replicas[i].key, not a later "no user name" from pg', () => {
    const e = configError(() => normalizeConfig(loose({ replicas: [{ name: 'x', conection: 'postgres://u:S3cret@r/app' }] })));
    expect(e.message).to.include('"replicas[0].conection"').and.include('did you mean "connection"?').and.not.include('S3cret');
  });

  it('treats an object with any replica-entry key as an entry: connection is required and pg keys belong inside it', () => {
    expect(configError(() => normalizeConfig(loose({ replicas: [{ name: 'x', weight: 2 }] }))).message).to.include('"replicas[0].connection" is required');
    expect(configError(() => normalizeConfig(loose({ replicas: [{ name: 'x', host: 'r1' }] }))).message)
      .to.include('"replicas[0].host" is a connection setting: put it inside `connection`');
    expect(configError(() => normalizeConfig(loose({ replicas: [{ pool: { max: 2 }, connection: 'postgres://r/app', nmae: 'x' }] }))).message)
      .to.include('"replicas[0].nmae"').and.include('did you mean "name"?');
  });

  it('checks the keys of bare replica connection objects and of connection objects inside entries against pg\'s', () => {
    expect(configError(() => normalizeConfig(loose({ replicas: [{ hots: 'r1', port: 5433 }] }))).message)
      .to.include('"replicas[0].hots" is not a pg connection option').and.include('did you mean "host"?');
    expect(configError(() => normalizeConfig(loose({ replicas: ['postgres://r1/app', { name: 'b', connection: { host: 'r2', pasword: 'S3cret' } }] }))).message)
      .to.include('"replicas[1].connection.pasword"').and.include('did you mean "password"?').and.not.include('S3cret');
    const ok = normalizeConfig(loose({ replicas: [{ host: 'r1', port: 5433, user: 'u', password: 'p', ssl: { rejectUnauthorized: false }, application_name: 'a' }] }));
    expect(ok.replicas[0]!.name).to.equal('r1:5433');
  });

  it('checks the primary connection object and cache.listenConnection the same way', () => {
    expect(configError(() => normalizeConfig(loose({ connection: { host: 'p', databse: 'app' } }))).message)
      .to.include('"connection.databse"').and.include('did you mean "database"?');
    expect(configError(() => normalizeCacheConfig({ max: 1, ttlMs: 1, listenConnection: { hostt: 'p' } })).message).to.include('"cache.listenConnection.hostt"');
  });

  it('rejects unknown keys inside every section, naming section.key and the closest key', () => {
    const cases: Array<[() => unknown, string, string]> = [
      [() => normalizeConfig(loose({ routing: { stratgy: 'random' } })), 'routing.stratgy', 'strategy'],
      [() => normalizeHealthConfig({ health: { intervalMS: 5 } }), 'health.intervalMS', 'intervalMs'],
      [() => normalizeConsistencyConfig({ sticky: { mdoe: 'lsn' } }), 'sticky.mdoe', 'mode'],
      [() => normalizeConsistencyConfig({ lag: { maxLagMS: 5 } }), 'lag.maxLagMS', 'maxLagMs'],
      [() => normalizeConsistencyConfig({ consistency: { scop: 'none' } }), 'consistency.scop', 'scope'],
      [() => normalizeCatalogConfig({ refreshMS: 5 }, true), 'catalog.refreshMS', 'refreshMs'],
      [() => normalizeCacheConfig({ max: 1, ttlMs: 1, stratgy: 'all' }), 'cache.stratgy', 'strategy'],
    ];
    for (const [run, key, meant] of cases) expect(configError(run).message, key).to.include(`"${key}"`).and.include(`did you mean "${meant}"?`);
  });

  it('suggests only near keys: one edit for short keys, two otherwise, a swap counting as one', () => {
    expect(closestKey('stikcy', ['sticky', 'lag'])).to.equal('sticky');
    expect(closestKey('lga', ['lag'])).to.equal('lag');
    expect(closestKey('lgx', ['lag'])).to.equal(undefined);
    expect(closestKey('zzzzzz', ['sticky'])).to.equal(undefined);
  });
});

describe('config clock: one validator, one validated clock', () => {
  it('rejects clock: 42 (and other non-clocks) even with the cache off, naming the key', () => {
    for (const clock of [42, 'now', null, {}, { now: 5 }]) {
      expect(configError(() => normalizeConfig(loose({ clock }))).message, String(clock)).to.include('"clock"');
    }
  });

  it('rejects half a pair of timers (fake setTimeout with real clearTimeout)', () => {
    expect(configError(() => normalizeConfig(loose({ clock: { now: () => 0, setTimeout: () => 1 } }))).message).to.include('both setTimeout and clearTimeout');
  });

  it('exposes the validated clock as NormalizedConfig.clock: the configured now(), real timers unless given', () => {
    let t = 1000;
    const n = normalizeConfig(loose({ clock: { now: () => t } }));
    t = 2000;
    expect(n.clock.now()).to.equal(2000);
    const handle = n.clock.setTimeout(() => undefined, 60_000);
    n.clock.clearTimeout(handle);
    const fired: number[] = [];
    const fake = normalizeConfig(loose({ clock: { now: () => t, setTimeout: (_fn: () => void, ms: number) => fired.push(ms), clearTimeout: () => undefined } }));
    fake.clock.setTimeout(() => undefined, 25);
    expect(fired).to.deep.equal([25]);
    expect(normalizeConfig(loose({})).clock.now()).to.be.a('number');
    expect(normalizeConfig(loose({ clock: Date })).clock.now()).to.be.a('number');
  });
});
