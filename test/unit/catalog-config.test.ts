import { expect } from 'chai';
import { normalizeCatalogConfig } from '../../lib/catalog';
import { splitKnex } from '../../lib';
import { configError } from '../support/expect-config-error';

describe('catalog config', () => {
  it("defaults to 'auto' with replicas and to off without, with a 60 s interval", () => {
    expect(normalizeCatalogConfig(undefined, true)).to.deep.equal({ enabled: true, refreshMs: 60_000, searchPath: undefined });
    expect(normalizeCatalogConfig(undefined, false).enabled).to.equal(false);
  });

  it("accepts 'auto', false and an object (which means on)", () => {
    expect(normalizeCatalogConfig('auto', false).enabled).to.equal(true);
    expect(normalizeCatalogConfig(false, true).enabled).to.equal(false);
    expect(normalizeCatalogConfig({ refreshMs: 0, searchPath: ['app', '$user', 'public'] }, true))
      .to.deep.equal({ enabled: true, refreshMs: 0, searchPath: ['app', '$user', 'public'] });
  });

  it('splits a comma-separated searchPath string', () => {
    expect(normalizeCatalogConfig({ searchPath: 'app, public' }, true).searchPath).to.deep.equal(['app', 'public']);
  });

  it('refuses other values naming the key and the value', () => {
    expect(configError(() => normalizeCatalogConfig(true, true)).message).to.include('"catalog"').and.include('true').and.include("'auto'");
    expect(configError(() => normalizeCatalogConfig('on', true)).message).to.include('"on"');
    expect(configError(() => normalizeCatalogConfig({ refreshMs: -5 }, true)).message).to.include('"catalog.refreshMs"').and.include('-5');
    expect(configError(() => normalizeCatalogConfig({ refreshMs: 1.5 }, true)).message).to.include('catalog.refreshMs');
    expect(configError(() => normalizeCatalogConfig({ searchPath: [] }, true)).message).to.include('catalog.searchPath');
    expect(configError(() => normalizeCatalogConfig({ searchPath: ['app', 3] }, true)).message).to.include('catalog.searchPath');
    expect(configError(() => normalizeCatalogConfig({ refresh: 10 }, true)).message).to.include('"catalog.refresh"').and.include('refreshMs');
  });

  it('is validated eagerly by splitKnex(), before any connection', () => {
    const e = configError(() => splitKnex({ client: 'pg', connection: 'postgres://u@127.0.0.1:1/x', replicas: ['postgres://u@127.0.0.1:2/x'], catalog: { refreshMs: 'soon' } as never }));
    expect(e.message).to.include('catalog.refreshMs').and.include('"soon"');
  });

  it('adds a no-op refreshCatalog() and an off stats section with catalog: false', async () => {
    const db = splitKnex({ client: 'pg', connection: 'postgres://u@127.0.0.1:1/x', replicas: ['postgres://u@127.0.0.1:2/x'], catalog: false, pool: { min: 0, max: 1 } });
    try {
      await db.refreshCatalog();
      expect(db.stats().catalog).to.deep.include({ enabled: false, state: 'off', version: 0 });
    } finally {
      await db.destroy();
    }
  });
});
