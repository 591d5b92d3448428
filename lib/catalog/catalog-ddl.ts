// A statement that may change function volatility, relation persistence, views,
// partitions/inheritance or the search path starts with one of these words. Any
// CREATE/ALTER/DROP counts (CREATE INDEX too: telling them apart is not worth a missed
// change, and a reload costs a few milliseconds); DO blocks may run DDL; SELECT … INTO
// UNLOGGED/TEMP creates a relation a standby cannot read.
const STARTS_DDL = /(?:^|;)\s*(?:create|alter|drop|do)\b/i;
const SELECT_INTO = /\binto\s+(?:unlogged|temp|temporary)\b/i;

/**
 * True when a SQL text sent to the primary may change what the catalog says: it is then
 * reloaded before the write's promise resolves. Over-approximates (a reload too many is
 * cheap; a missed one routes by stale answers until the next refresh).
 *
 * @example
 * isCatalogDdl('create or replace function f() returns int language sql as $$select 1$$'); // true
 * isCatalogDdl('alter table t set unlogged');                                               // true
 * isCatalogDdl('insert into t values (1)');                                                 // false
 */
export function isCatalogDdl(sql: string): boolean {
  // Leading comments would hide the first word: strip `--` lines and `/* */` blocks first.
  const text = sql.includes('--') || sql.includes('/*') ? sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ') : sql;
  return STARTS_DDL.test(text) || SELECT_INTO.test(text);
}
