import { isDdl } from '../classify';

/**
 * True when a SQL text sent to the primary may change what the catalog says (function
 * volatility, relation persistence, sequences, views, partitions/inheritance, the search
 * path): it is then reloaded before the write's promise resolves. It is the classifier's
 * {@link isDdl}: any CREATE/ALTER/DROP counts (CREATE INDEX too: telling them apart is not
 * worth a missed change, and a reload costs a few milliseconds), DO blocks may run DDL,
 * and `SELECT … INTO` creates a relation (a standby cannot read an unlogged or temporary
 * one). Comments and strings never count. Over-approximates: a reload too many is cheap; a
 * missed one routes by stale answers until the next refresh.
 *
 * @example
 * isCatalogDdl('create or replace function f() returns int language sql as $$select 1$$'); // true
 * isCatalogDdl('/* tag *\/ alter table t set unlogged');                                    // true
 * isCatalogDdl('insert into t values (1)');                                                 // false
 */
export function isCatalogDdl(sql: string): boolean {
  return isDdl(sql);
}
