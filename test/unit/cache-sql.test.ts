import { expect } from 'chai';
import { cacheableSql, clockBinding } from '../../lib/cache/cacheable-sql';
import { writeEffect } from '../../lib/cache/write-effect';
import type { FunctionCatalog } from '../../lib/classify';

describe('cache: which SQL may be cached', () => {
  const cacheable: Array<[string, string[]]> = [
    ['select * from "users" where "id" = ?', ['users']],
    ['select u.name, count(p.id) from users u left join app.posts p on p.user_id = u.id group by 1', ['users', 'app.posts']],
    ['with recent as (select * from posts) select lower(title), coalesce(x, 0) from recent', ['posts']],
    ['select jsonb_build_object(\'a\', 1), array_agg(id) from "Users"', ['Users']],
    ['values (1), (2)', []],
    ['table settings', ['settings']],
    ['select extract(year from created_at) from t where created_at > ?::timestamptz', ['t']],
  ];
  for (const [sql, tables] of cacheable) {
    it(`caches: ${sql}`, () => {
      const v = cacheableSql(sql);
      expect(v.refusal).to.equal(undefined);
      expect(v.relations.map((r) => r.display)).to.deep.equal(tables);
    });
  }

  const refused: Array<[string, RegExp]> = [
    ['select now()', /now\(\) changes between calls/],
    ['select * from t where at > current_timestamp', /CURRENT_TIMESTAMP/],
    ['select * from t where owner = current_user', /CURRENT_USER/],
    ['select * from t order by random() limit 1', /random\(\)/],
    ['select gen_random_uuid()', /gen_random_uuid/],
    ['select pg_last_wal_replay_lsn()', /pg_last_wal_replay_lsn/],
    ['select inet_server_port()', /inet_server_port/],
    ['select app.slugify(title) from posts', /app\.slugify\(\) is not known to be immutable/],
    ['select * from t tablesample system (10)', /TABLESAMPLE/],
    ["select * from t where at > 'now'::timestamptz", /'now' reads the clock/],
    ['show search_path', /SHOW is not a query/],
    ['explain select 1', /EXPLAIN is not a query/],
    ['select 1; show timezone', /SHOW/],
    ['select age(born) from people', /age\(\)/],
  ];
  for (const [sql, why] of refused) {
    it(`refuses: ${sql}`, () => {
      expect(cacheableSql(sql).refusal).to.match(why);
    });
  }

  it('accepts a function the catalog reports immutable, and no other', () => {
    const catalog: FunctionCatalog = {
      version: 1,
      functionVolatility: (name) => (name === 'slugify' ? 'immutable' : name === 'tenant_rows' ? 'stable' : undefined),
      isUnloggedRelation: () => false,
    };
    expect(cacheableSql('select app.slugify(title) from posts', catalog).refusal).to.equal(undefined);
    expect(cacheableSql('select app.tenant_rows()', catalog).refusal).to.match(/not known to be immutable/);
  });

  it("refuses bindings PostgreSQL would read the clock from ('now', 'today')", () => {
    expect(clockBinding(['now'])).to.equal(true);
    expect(clockBinding([' Today '])).to.equal(true);
    expect(clockBinding(['nowhere', 1, null])).to.equal(false);
    expect(clockBinding(undefined)).to.equal(false);
  });
});

describe('cache: what a write on the primary can change', () => {
  const cases: Array<[string, string]> = [
    ['insert into users (name) values ($1)', 'tables'],
    ['update users set name = $1 where id = $2', 'tables'],
    ['delete from users where id = $1', 'tables'],
    ['insert into t (id) values (1) on conflict (id) do update set v = excluded.v', 'tables'],
    ['with gone as (delete from a returning *) insert into b select * from gone', 'tables'],
    ['with x as (update t set v = 1 returning *) select * from x', 'tables'],
    ['select * from t for update', 'quiet'],
    ['select * from t for no key update skip locked', 'quiet'],
    ['select nextval(\'seq\')', 'quiet'],
    ['select pg_advisory_lock(1)', 'quiet'],
    ['set statement_timeout = 1000', 'quiet'],
    ['lock table t in exclusive mode', 'quiet'],
    ['select app.recompute_totals()', 'broad'],
    ['insert into t (v) values (app.next_code())', 'broad'],
    ['truncate t', 'broad'],
    ['do $$ begin perform 1; end $$', 'ddl'], // a DO block may change the schema: the one DDL detection says so
    ['call app.archive()', 'broad'],
    ['refresh materialized view mv', 'broad'],
    ['create table t (id int)', 'ddl'],
    ['alter table t add column x int', 'ddl'],
    ['drop view v', 'ddl'],
    ['insert into t values (1); alter table t add column y int', 'ddl'],
  ];
  for (const [sql, effect] of cases) {
    it(`${effect}: ${sql}`, () => {
      expect(writeEffect(sql)).to.equal(effect);
    });
  }

  it('trusts functions declared read-only or stable', () => {
    expect(writeEffect('select app.lookup(1)', (name) => name === 'lookup')).to.equal('quiet');
  });
});

describe('cache: function calls inside writes', () => {
  const cases: Array<[string, string]> = [
    ['insert into "users" ("email", "name") values ($1, $2) returning "id"', 'tables'],
    ['insert into "t" ("id", "v") values ($1, $2) on conflict ("id") do update set "v" = excluded."v"', 'tables'],
    ['update "t" set "v" = lower($1), "at" = $2::timestamptz where "id" = $3', 'tables'],
    ['update t set (a, b) = (1, 2) where id = 3', 'tables'],
    ['insert into t (v) values (app.next_code())', 'broad'],
    ['update t set v = app.bump(v)', 'broad'],
    ['delete from t where id in (select app.expired_ids())', 'broad'],
    ['insert into t (n) values (nextval(\'s\'))', 'tables'],
  ];
  for (const [sql, effect] of cases) {
    it(`${effect}: ${sql}`, () => {
      expect(writeEffect(sql)).to.equal(effect);
    });
  }
});
