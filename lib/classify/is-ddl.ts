import { LRUCache } from 'lru-cache';
import { analyzeSql } from './analyze-sql';

// A text can only be DDL if one of these words occurs in it; most texts (every SELECT,
// UPDATE, DELETE) are rejected here without lexing. Strings and comments may match too:
// the lexer then decides.
const MAY_BE_DDL = /\b(?:create|alter|drop|comment|security|import|reassign|grant|revoke|do|into)\b/i;

// Called on every statement that completes: remember recent answers (short texts only,
// as the classifier does).
const MAX_MEMOIZED_SQL_LENGTH = 16 * 1024;
const memo = new LRUCache<string, boolean>({ max: 500 });

/**
 * True when running `sql` changes the schema, or may: some statement of it is CREATE
 * (temporary objects included), ALTER, DROP, COMMENT, SECURITY LABEL, IMPORT FOREIGN
 * SCHEMA, REASSIGN OWNED, GRANT, REVOKE, a DO block, `SELECT … INTO` (it creates a table)
 * or `EXPLAIN ANALYZE` of one of those. It reads the text with the classifier's lexer:
 * comments, strings, dollar quotes and quoted identifiers never fool it, and every
 * `;`-separated statement counts. Over-approximates on purpose (a DO block may run no
 * DDL); a procedure's CALL is not counted. Never throws.
 *
 * This is split-knex's one DDL detection: the catalog reload, cache invalidation and
 * transaction write tracking should all ask it.
 *
 * @example
 * isDdl('/* v42 *\/ create function f() returns int language sql as $$select 1$$'); // true
 * isDdl('select 1; -- ;drop table users');                                          // false
 * isDdl("update t set note = 'drop table' where id = 1");                           // false
 * isDdl('select * into temp t2 from t');                                            // true
 */
export function isDdl(sql: string): boolean {
  if (typeof sql !== 'string' || !MAY_BE_DDL.test(sql)) return false;
  const memoize = sql.length <= MAX_MEMOIZED_SQL_LENGTH;
  const known = memoize ? memo.get(sql) : undefined;
  if (known !== undefined) return known;
  let ddl = false;
  try {
    ddl = analyzeSql(sql).statements.some((statement) => statement.ddl);
  } catch {
    // The analysis never throws by design; if it did, a reload too many is the safe side.
    ddl = true;
  }
  if (memoize) memo.set(sql, ddl);
  return ddl;
}
