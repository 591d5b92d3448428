import { expect } from 'chai';
import { normalizeConfig } from '../../lib/config';
import { configError } from '../support/expect-config-error';

describe('normalizeConfig', () => {
  const base = { client: 'pg', connection: 'postgres://app:pw@p:5432/app' };

  it('accepts a knexfile entry without replicas: no replicas, defaults', () => {
    const n = normalizeConfig(base);
    expect(n.replicas).to.deep.equal([]);
    expect(n.routing).to.deep.include({ strategy: 'least-busy', fallback: 'primary', retryMisroutes: true, classifierCacheSize: 1000 });
  });

  it('accepts pg, postgres and postgresql and refuses other clients naming the value', () => {
    for (const client of ['pg', 'postgres', 'postgresql']) expect(normalizeConfig({ ...base, client }).knexConfig.client).to.equal('pg');
    const e = configError(() => normalizeConfig({ ...base, client: 'mysql2' }));
    expect(e.message).to.include('"client"').and.include('"mysql2"').and.include('PostgreSQL');
  });

  it('splits a comma-separated string of replica URLs, naming them host:port', () => {
    const n = normalizeConfig({ ...base, replicas: 'postgres://u:secret@r1:5433/app, postgres://u@r2/app' });
    expect(n.replicas.map((r) => r.name)).to.deep.equal(['r1:5433', 'r2:5432']);
    expect(n.replicas.every((r) => r.role === 'replica' && r.weight === 1)).to.equal(true);
  });

  it('accepts connection objects and full replica entries with weight and pool merged over the base pool', () => {
    const n = normalizeConfig({
      ...base,
      pool: { min: 0, max: 10 },
      replicas: [{ host: 'r1', port: 5433, user: 'app', database: 'app' }, { name: 'eu-2', connection: 'postgres://r2/app', weight: 2, pool: { max: 20 } }],
    });
    expect(n.replicas[0]!.name).to.equal('r1:5433');
    expect(n.replicas[1]).to.deep.include({ name: 'eu-2', weight: 2 });
    expect(n.replicas[1]!.pool).to.deep.equal({ min: 0, max: 20 });
  });

  it('removes split-knex keys before the config reaches knex', () => {
    const n = normalizeConfig({ ...base, replicas: [], routing: { strategy: 'random' } });
    expect(n.knexConfig).not.to.have.property('replicas');
    expect(n.knexConfig).not.to.have.property('routing');
  });

  it('names the key and the value of every bad option, never a password', () => {
    expect(configError(() => normalizeConfig({ ...base, routing: { strategy: 'fastest' as never } })).message)
      .to.include('routing.strategy').and.include('"fastest"');
    expect(configError(() => normalizeConfig({ ...base, routing: { fallbak: 'error' } as never })).message).to.include('routing.fallbak');
    expect(configError(() => normalizeConfig({ ...base, replicas: [{ connection: 'postgres://r/app', weigth: 2 }] as never })).message)
      .to.include('replicas[0].weigth');
    expect(configError(() => normalizeConfig({ ...base, replicas: [{ connection: 'postgres://r/app', weight: -1 }] })).message)
      .to.include('replicas[0].weight').and.include('-1');
    const bad = configError(() => normalizeConfig({ ...base, replicas: ['mysql://u:hunter2@r/app'] }));
    expect(bad.message).to.include('replicas[0]').and.not.include('hunter2');
    expect(configError(() => normalizeConfig({ ...base, replica: 'postgres://r/app' } as never)).message).to.include('did you mean "replicas"');
    expect(configError(() => normalizeConfig({ ...base, routing: { classifierCacheSize: 1.5 } })).message).to.include('nonnegative integer');
    expect(configError(() => normalizeConfig({ client: 'pg' })).message).to.include('"connection"');
  });

  it('refuses duplicate replica names and the name "primary"', () => {
    configError(() => normalizeConfig({ ...base, replicas: [{ name: 'a', connection: 'postgres://r1/x' }, { name: 'a', connection: 'postgres://r2/x' }] }));
    configError(() => normalizeConfig({ ...base, replicas: [{ name: 'primary', connection: 'postgres://r1/x' }] }));
  });
});
