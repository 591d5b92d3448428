import { expect } from 'chai';
import { isCatalogDdl } from '../../lib/catalog';

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
