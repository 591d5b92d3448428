import { expect } from 'chai';
import fs from 'fs';
import path from 'path';
import { FUNCTIONS_SQL, SEARCH_PATH_SQL, UNLOGGED_RELATIONS_SQL } from '../../lib/catalog';

describe('docs/catalog.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/catalog.md'), 'utf8');

  it('shows the exact queries the catalog load sends', () => {
    for (const sql of [SEARCH_PATH_SQL, FUNCTIONS_SQL, UNLOGGED_RELATIONS_SQL]) expect(doc).to.include(`${sql};`);
  });

  it('documents every catalog option', () => {
    for (const key of ['`catalog`', '`catalog.refreshMs`', '`catalog.searchPath`', 'db.refreshCatalog()', 'stats().catalog']) expect(doc).to.include(key);
  });
});
