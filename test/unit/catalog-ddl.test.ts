import { expect } from 'chai';
import { isCatalogDdl } from '../../lib/catalog';
import { isDdl } from '../../lib/classify';

describe('isCatalogDdl', () => {
  it('flags statements that may change functions, relations or the search path', () => {
    for (const sql of [
      'create function f() returns int language sql as $$select 1$$',
      'CREATE OR REPLACE FUNCTION app.f() RETURNS int AS $$ select 1 $$ LANGUAGE sql VOLATILE',
      'alter function f() stable',
      'drop function if exists f(int)',
      'create procedure p() language sql as $$select 1$$',
      'create unlogged table t (id int)',
      'alter table t set unlogged',
      '  alter table "T" set logged',
      'create extension if not exists pg_trgm',
      'drop schema s cascade',
      'alter role app set search_path = app, public',
      'create view v as select * from t',
      'do $$ begin execute \'create table x ()\'; end $$',
      'select 1; create table t2 (id int)',
      '-- migration 42\ncreate table t3 (id int)',
      '/* tag */ alter table t attach partition t_1 for values in (1)',
      'select * into unlogged t4 from t',
      'select * into temp t5 from t',
    ]) expect(isCatalogDdl(sql), sql).to.equal(true);
  });

  it('leaves ordinary reads and writes alone', () => {
    for (const sql of [
      'select * from t',
      'insert into t (created) values (1)',
      "update t set note = 'drop table' where id = 1",
      'delete from t where id = $1',
      'select create_user($1)',
      'with x as (select 1) select * from x',
      'insert into t select * from u',
    ]) expect(isCatalogDdl(sql), sql).to.equal(false);
  });
});

describe('isDdl: the lexer decides, comments and strings never count', () => {
  it('finds DDL behind leading block comments, line comments and parentheses', () => {
    for (const sql of [
      '/* x */ create function f() returns int language sql as $$select 1$$',
      '/* a /* nested */ comment */ drop table t',
      '-- note\n-- another\n  alter table t add column c int',
      '/* x */ do $$ begin perform 1; end $$',
      'select 1; /* then */ grant select on t to r',
      'comment on table t is $$x$$',
      'security label on table t is null',
      'revoke all on t from r',
      'reassign owned by a to b',
      'import foreign schema s from server x into y',
      'create temp table t (id int)',
      'with x as (select 1) select * into t from x',
      'with d as (delete from t returning *) select * into t_backup from d',
      'explain analyze create table t2 as select 1',
      'explain (analyze) select * into t3 from t',
      // A comment opener inside a string hid these from the regex that stripped comments first.
      "select '--'; create table t (id int)",
      "select '/*'; drop table t; select '*/'",
    ]) expect(isDdl(sql), sql).to.equal(true);
  });

  it('ignores DDL words inside comments, strings, dollar quotes and quoted names', () => {
    for (const sql of [
      'select 1; -- ;drop table users',
      'select 1 /* ; create table x () */',
      "select 'x; drop table users'",
      'select $$; alter table t set unlogged$$',
      'select "create" from t',
      'select id from t where "drop" = true',
      'insert into t (c) values (1) on conflict do nothing',
      'merge into t using s on t.id = s.id when matched then do nothing',
      'explain create table t4 (id int)',
      'select create_user($1)',
      'call do_things()',
      '',
      '-- only a comment',
    ]) expect(isDdl(sql), sql).to.equal(false);
  });

  it('isCatalogDdl is isDdl: the catalog reload uses the one lexer-based detection', () => {
    for (const sql of ['/* x */ create function f() returns int language sql as $$select 1$$', 'select 1; -- ;drop', 'select 1']) {
      expect(isCatalogDdl(sql), sql).to.equal(isDdl(sql));
    }
  });

  it('answers the same for a memoized text and never throws on junk', () => {
    const sql = '/* m */ drop view v';
    expect(isDdl(sql)).to.equal(true);
    expect(isDdl(sql)).to.equal(true);
    expect(isDdl(undefined as unknown as string)).to.equal(false);
    expect(isDdl('create' + '('.repeat(10_000))).to.equal(true);
  });
});
