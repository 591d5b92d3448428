import { expect } from 'chai';
import { classifySql, SqlClassifier } from '../../lib/classify';

describe('classifySql', () => {
  describe('reasons', () => {
    const reasons: Array<[string, string]> = [
      ['select * from users', 'read-only SELECT'],
      ['with x as (select 1) select * from x', 'read-only WITH'],
      ['values (1)', 'read-only VALUES'],
      ['table users', 'read-only TABLE'],
      ['show work_mem', 'SHOW'],
      ['explain insert into users (email) values ($1)', 'EXPLAIN without ANALYZE'],
      ['explain analyze select 1', 'EXPLAIN ANALYZE of read-only SELECT'],
      ['copy (select 1) to stdout', 'COPY TO STDOUT of read-only SELECT'],
      ['with d as (delete from t returning *) select * from d', 'data-modifying CTE (DELETE)'],
      ['with x as (select 1) update t set a = 1', 'write statement UPDATE'],
      ['select * from t for update', 'row lock FOR UPDATE'],
      ['select * from t for no key update', 'row lock FOR NO KEY UPDATE'],
      ['select * from t for key share', 'row lock FOR KEY SHARE'],
      ['select * into t2 from t', 'SELECT INTO creates a table'],
      ['select * into temp t2 from t', 'SELECT INTO creates a temporary table'],
      ["select nextval('s')", 'volatile function nextval'],
      ['select my_fn()', 'unknown function my_fn'],
      ['select app.my_fn()', 'unknown function app.my_fn'],
      ['set search_path = app', 'session state SET'],
      ['set transaction read write', 'transaction characteristics SET TRANSACTION'],
      ['create temp table t (a int)', 'temporary object CREATE TEMP'],
      ['create table t (a int)', 'DDL CREATE'],
      ['alter system set work_mem = 1', 'server configuration ALTER SYSTEM'],
      ['vacuum', 'maintenance VACUUM'],
      ['begin', 'transaction control BEGIN'],
      ["prepare transaction 'x'", 'transaction control PREPARE TRANSACTION'],
      ['listen c', 'notification LISTEN'],
      ['frobnicate the table', 'unknown statement type FROBNICATE'],
      ["'not a statement'", 'unrecognized statement starting with a string literal'],
      ['explain analyze delete from t', 'EXPLAIN ANALYZE runs write statement DELETE'],
      ['copy t from stdin', 'COPY FROM writes rows'],
      ["copy t to '/tmp/x'", 'COPY TO writes a server file'],
      ['', 'no statement in the SQL text'],
      ['-- nothing\n/* at all */', 'no statement in the SQL text'],
    ];
    for (const [sql, reason] of reasons) {
      it(`explains ${JSON.stringify(sql)} as "${reason}"`, () => {
        expect(classifySql(sql).reason).to.equal(reason);
      });
    }
  });

  describe('multiple statements', () => {
    it('goes to a replica only when every statement may', () => {
      expect(classifySql('select 1; select 2').target).to.equal('replica');
      expect(classifySql('select 1; select 2').reason).to.equal('all 2 statements read-only');
      expect(classifySql('select 1; insert into t values (1); select 2').target).to.equal('primary');
    });

    it('names the statement that needs the primary', () => {
      expect(classifySql('select 1; select 2; delete from t').reason).to.equal(
        'statement 3 of 3: write statement DELETE',
      );
    });

    it('ignores empty statements', () => {
      const result = classifySql(';; select * from users ;;');
      expect(result).to.deep.include({ target: 'replica', reason: 'read-only SELECT' });
    });

    it('deduplicates tables across statements, in order of appearance', () => {
      expect(classifySql('select * from b join a on true; delete from a; select * from c').tables).to.deep.equal([
        'b',
        'a',
        'c',
      ]);
    });
  });

  describe('inTransaction', () => {
    it('lets SET LOCAL stay on the pinned node inside a transaction', () => {
      const result = classifySql('set local statement_timeout = 500', { inTransaction: true });
      expect(result).to.deep.include({ target: 'replica', reason: 'SET LOCAL inside a transaction' });
    });

    it('keeps SET LOCAL on the primary outside a transaction', () => {
      expect(classifySql('set local statement_timeout = 500').target).to.equal('primary');
      expect(classifySql('set local statement_timeout = 500', { inTransaction: false }).target).to.equal('primary');
    });

    it('keeps session-wide SET on the primary even inside a transaction', () => {
      expect(classifySql('set statement_timeout = 500', { inTransaction: true }).target).to.equal('primary');
    });

    it('does not let SET LOCAL excuse other statements', () => {
      const sql = 'set local work_mem = 1; select nextval($1)';
      expect(classifySql(sql, { inTransaction: true }).target).to.equal('primary');
    });
  });

  describe('robustness', () => {
    it('returns primary for a non-string instead of throwing', () => {
      const result = classifySql(undefined as unknown as string);
      expect(result.target).to.equal('primary');
      expect(result.reason).to.match(/must be a string/);
    });

    it('returns frozen results so memoized entries cannot be corrupted', () => {
      const result = classifySql('select * from users');
      expect(Object.isFrozen(result)).to.equal(true);
      expect(Object.isFrozen(result.tables)).to.equal(true);
    });

    it('turns an invalid per-call readOnlyFunctions into primary, not an exception', () => {
      const result = classifySql('select 1', { readOnlyFunctions: 'lower' as unknown as string[] });
      expect(result.target).to.equal('primary');
      expect(result.reason).to.match(/readOnlyFunctions/);
    });
  });
});

describe('SqlClassifier', () => {
  describe('options validation', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
      it(`rejects cacheSize ${String(bad)} with a TypeError naming the option and value`, () => {
        expect(() => new SqlClassifier({ cacheSize: bad as unknown as number })).to.throw(
          TypeError,
          `SqlClassifier cacheSize option must be a nonnegative integer, got ${String(bad)}`,
        );
      });
    }

    it('accepts cacheSize 0 (no memoization)', () => {
      const classifier = new SqlClassifier({ cacheSize: 0 });
      classifier.classify('select 1');
      expect(classifier.memoized).to.equal(0);
    });

    it('rejects a string readOnlyFunctions, which would iterate as characters', () => {
      expect(() => new SqlClassifier({ readOnlyFunctions: 'slugify' as unknown as string[] })).to.throw(
        TypeError,
        'SqlClassifier readOnlyFunctions option must be an iterable of function names, got "slugify"',
      );
    });

    it('rejects empty or non-string function names', () => {
      expect(() => new SqlClassifier({ readOnlyFunctions: [''] })).to.throw(TypeError, /non-empty strings/);
      expect(() => new SqlClassifier({ readOnlyFunctions: [42 as unknown as string] })).to.throw(
        TypeError,
        'SqlClassifier readOnlyFunctions option entries must be non-empty strings, got 42',
      );
    });
  });

  describe('memoization', () => {
    it('never holds more than cacheSize texts', () => {
      const classifier = new SqlClassifier({ cacheSize: 3 });
      for (let i = 0; i < 10; i++) classifier.classify(`select ${i}`);
      expect(classifier.memoized).to.equal(3);
    });

    it('returns the memoized result for a repeated text', () => {
      const classifier = new SqlClassifier({ cacheSize: 10 });
      const first = classifier.classify('select * from users where id = $1');
      expect(classifier.classify('select * from users where id = $1')).to.equal(first);
    });

    it('evicts the least recently used text first', () => {
      const classifier = new SqlClassifier({ cacheSize: 2 });
      const a = classifier.classify('select 1');
      classifier.classify('select 2');
      classifier.classify('select 1'); // touch
      classifier.classify('select 3'); // evicts "select 2"
      expect(classifier.classify('select 1')).to.equal(a);
      expect(classifier.memoized).to.equal(2);
    });

    it('keeps results for different options apart', () => {
      const classifier = new SqlClassifier({ cacheSize: 10 });
      const sql = 'set local work_mem = 1';
      expect(classifier.classify(sql).target).to.equal('primary');
      expect(classifier.classify(sql, { inTransaction: true }).target).to.equal('replica');
      expect(classifier.classify('select f()').target).to.equal('primary');
      expect(classifier.classify('select f()', { readOnlyFunctions: ['f'] }).target).to.equal('replica');
      expect(classifier.classify('select f()').target).to.equal('primary');
    });

    it('does not memoize very long texts', () => {
      const classifier = new SqlClassifier({ cacheSize: 10 });
      classifier.classify(`select 1 ${' '.repeat(100_000)}`);
      expect(classifier.memoized).to.equal(0);
    });

    it('can be cleared', () => {
      const classifier = new SqlClassifier();
      classifier.classify('select 1');
      classifier.clear();
      expect(classifier.memoized).to.equal(0);
    });
  });

  describe('readOnlyFunctions', () => {
    it('keeps queries calling listed functions on a replica', () => {
      const classifier = new SqlClassifier({ readOnlyFunctions: ['app.slugify', 'unaccent'] });
      expect(classifier.classify('select app.slugify(title) from posts').target).to.equal('replica');
      expect(classifier.classify('select unaccent(name) from users').target).to.equal('replica');
      expect(classifier.classify('select app.other(name) from users').target).to.equal('primary');
    });

    it('matches a bare name against schema-qualified calls, not the reverse', () => {
      const bare = new SqlClassifier({ readOnlyFunctions: ['slugify'] });
      expect(bare.classify('select app.slugify($1)').target).to.equal('replica');
      const qualified = new SqlClassifier({ readOnlyFunctions: ['app.slugify'] });
      expect(qualified.classify('select slugify($1)').target).to.equal('primary');
    });

    it('folds listed names like unquoted identifiers and keeps exact spellings for quoted ones', () => {
      const classifier = new SqlClassifier({ readOnlyFunctions: ['App.Slugify', 'MixedCase'] });
      expect(classifier.classify('select APP.SLUGIFY($1)').target).to.equal('replica');
      expect(classifier.classify('select "MixedCase"($1)').target).to.equal('replica');
    });

    it('adds per-call names to the constructor ones', () => {
      const classifier = new SqlClassifier({ readOnlyFunctions: ['a'] });
      expect(classifier.classify('select a(), b()').target).to.equal('primary');
      expect(classifier.classify('select a(), b()', { readOnlyFunctions: new Set(['b']) }).target).to.equal('replica');
    });

    it('cannot whitelist a built-in write function', () => {
      const classifier = new SqlClassifier({ readOnlyFunctions: ['nextval', 'pg_advisory_lock'] });
      expect(classifier.classify("select nextval('s')").target).to.equal('primary');
      expect(classifier.classify('select pg_advisory_lock(1)').target).to.equal('primary');
    });
  });
});
