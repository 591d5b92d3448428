import { expect } from 'chai';
import fs from 'fs';
import path from 'path';
import { classifySql } from '../../lib/classify';

interface FixtureCase {
  sql: string;
  target: 'primary' | 'replica';
  tables?: string[];
  note?: string;
  execute?: boolean;
  params?: unknown[];
}

const fixtureDir = path.join(__dirname, '../../fixtures/sql');
const fixtureFiles = fs
  .readdirSync(fixtureDir)
  .filter((file) => file.endsWith('.json'))
  .sort();

function label(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat;
}

// The cases are data (fixtures/sql/*.json) so that the integration suite can run the
// same texts on a real hot standby; here they pin what the classifier answers.
describe('classifySql on the SQL fixtures', () => {
  it('has at least 320 cases across the fixture files', () => {
    const total = fixtureFiles
      .map((file) => (JSON.parse(fs.readFileSync(path.join(fixtureDir, file), 'utf8')) as FixtureCase[]).length)
      .reduce((a, b) => a + b, 0);
    expect(total).to.be.at.least(320);
  });

  for (const file of fixtureFiles) {
    const cases = JSON.parse(fs.readFileSync(path.join(fixtureDir, file), 'utf8')) as FixtureCase[];
    describe(file, () => {
      for (const c of cases) {
        it(`${label(c.sql)} → ${c.target}`, () => {
          const result = classifySql(c.sql);
          expect(result.target, result.reason).to.equal(c.target);
          expect(result.reason).to.be.a('string').and.not.equal('');
          if (c.tables !== undefined) expect(result.tables).to.deep.equal(c.tables);
        });
      }
    });
  }
});
