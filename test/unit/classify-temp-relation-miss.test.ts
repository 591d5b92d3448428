import { expect } from 'chai';
import { isTempRelationMiss } from '../../lib/classify';

const missing = (name: string, extra: Record<string, unknown> = {}) => ({ code: '42P01', message: `relation "${name}" does not exist`, ...extra });

describe('isTempRelationMiss', () => {
  it('is true for a 42P01 about an unqualified relation the SQL reads', () => {
    expect(isTempRelationMiss(missing('import_rows'), 'select * from import_rows where id = $1')).to.equal(true);
    expect(isTempRelationMiss(missing('scratch'), 'select u.id from users u join scratch s on s.id = u.id')).to.equal(true);
    expect(isTempRelationMiss(missing('scratch'), 'SELECT * FROM Scratch')).to.equal(true);
  });

  it('is true for a pg_temp-qualified relation, with or without the backend number', () => {
    expect(isTempRelationMiss(missing('pg_temp.t'), 'select * from pg_temp.t')).to.equal(true);
    expect(isTempRelationMiss(missing('pg_temp_3.t'), 'select * from pg_temp_3.t')).to.equal(true);
  });

  it('keeps quoted names exact, as PostgreSQL reports them', () => {
    expect(isTempRelationMiss(missing('Import Rows'), 'select * from "Import Rows"')).to.equal(true);
    expect(isTempRelationMiss(missing('import rows'), 'select * from "Import Rows"')).to.equal(false);
  });

  it('is false for a relation in a named schema: it cannot be temporary', () => {
    expect(isTempRelationMiss(missing('app.t'), 'select * from app.t')).to.equal(false);
    expect(isTempRelationMiss(missing('public.import_rows'), 'select * from public.import_rows')).to.equal(false);
  });

  it('is false for a relation the SQL does not name (missing inside a view or function body)', () => {
    expect(isTempRelationMiss(missing('hidden'), 'select * from report_view')).to.equal(false);
    expect(isTempRelationMiss(missing('hidden'), "select 'hidden' from t")).to.equal(false);
    expect(isTempRelationMiss(missing('hidden'), 'select 1 -- from hidden')).to.equal(false);
  });

  it('is false for other errors and other codes', () => {
    expect(isTempRelationMiss({ code: '42703', message: 'column "x" does not exist' }, 'select x from t')).to.equal(false);
    expect(isTempRelationMiss({ code: '25006', message: 'cannot execute INSERT in a read-only transaction' }, 'insert into t values (1)')).to.equal(false);
    expect(isTempRelationMiss({ message: 'relation "t" does not exist' }, 'select * from t')).to.equal(false);
    expect(isTempRelationMiss(new Error('relation "t" does not exist'), 'select * from t')).to.equal(false);
  });

  it('finds the relation by the error position when the message is in another language', () => {
    const sql = 'select * from import_rows';
    const german = { code: '42P01', message: 'Relation »import_rows« existiert nicht', position: String(sql.indexOf('import_rows') + 1) };
    expect(isTempRelationMiss(german, sql)).to.equal(true);
    const qualified = 'select * from app.rows';
    expect(isTempRelationMiss({ code: '42P01', message: '?', position: qualified.indexOf('app') + 1 }, qualified)).to.equal(false);
    expect(isTempRelationMiss({ code: '42P01', message: '?', position: '999' }, sql)).to.equal(false);
    expect(isTempRelationMiss({ code: '42P01', message: '?' }, sql)).to.equal(false);
  });

  it('never throws, whatever it is given', () => {
    for (const error of [undefined, null, 42, 'x', {}, { code: '42P01', message: 42 }, { code: '42P01', position: {} }]) {
      expect(isTempRelationMiss(error, 'select * from t')).to.equal(false);
    }
    expect(isTempRelationMiss(missing('t'), undefined as unknown as string)).to.equal(false);
  });
});
