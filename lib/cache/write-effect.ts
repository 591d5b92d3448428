import { analyzeSql } from '../classify/analyze-sql';
import { isReadOnlyFunction } from '../classify/read-only-functions';
import { lexSql } from '../classify/sql-lexer';
import { isWriteFunction } from '../classify/write-functions';

/**
 * What a statement run on the primary can do to cached results, from least to most:
 * - `quiet`: changes no table data (`SET`, `LOCK`, `SELECT … FOR UPDATE`, `nextval()`);
 * - `tables`: changes only the tables it names (INSERT/UPDATE/DELETE/MERGE/COPY FROM);
 * - `broad`: may change anything (`TRUNCATE`, `DO`, `CALL`, unknown functions, unknown statements);
 * - `ddl`: changes the schema: clear everything and reload the relation catalog.
 */
export type WriteEffect = 'quiet' | 'tables' | 'broad' | 'ddl';

const RANK: Record<WriteEffect, number> = { quiet: 0, tables: 1, broad: 2, ddl: 3 };

const QUERY_WORDS = new Set(['select', 'with', 'values', 'table']);
const DML_WORDS = new Set(['insert', 'update', 'delete', 'merge', 'copy']);
// Statements that touch no table data (transaction control never reaches here, but is harmless).
const QUIET_WORDS = new Set([
  'set', 'reset', 'lock', 'vacuum', 'analyze', 'analyse', 'checkpoint', 'listen', 'unlisten', 'notify',
  'discard', 'show', 'begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release',
  'prepare', 'deallocate', 'declare', 'fetch', 'move', 'close', 'load',
]);
const DDL_WORDS = new Set(['create', 'alter', 'drop', 'comment', 'grant', 'revoke', 'security', 'import', 'reassign']);
// Words that, inside a query, mean a data-modifying CTE or SELECT INTO.
const MODIFYING_WORDS = new Set(['insert', 'delete', 'merge', 'into']);

/**
 * Classifies what `sql` (run on the primary) may change, so that invalidation is exact
 * where it can be and total where it cannot. `safeCall(name, schema)` says whether a
 * function the built-in lists do not know is declared read-only (the routing config's
 * `readOnlyFunctions`, or a stable/immutable function in the catalog).
 *
 * @example
 * writeEffect('update users set name = $1 where id = $2'); // 'tables'
 * writeEffect('select nextval($1)');                         // 'quiet'
 * writeEffect('select app.rebuild_totals()');               // 'broad'
 * writeEffect('alter table users add column x int');       // 'ddl'
 */
export function writeEffect(sql: string, safeCall: (name: string, schema: string | undefined) => boolean = () => false): WriteEffect {
  const tokens = lexSql(sql);
  let effect: WriteEffect = 'quiet';
  let start = true;
  let inQuery = false;
  for (let i = 0; i < tokens.length; i++) {
    const kind = tokens.kinds[i];
    const text = tokens.texts[i]!;
    if (kind === 'punct') {
      if (text === ';') start = true;
      continue;
    }
    if (start) {
      start = false;
      inQuery = false;
      const word = kind === 'word' ? text : '';
      let e: WriteEffect;
      if (QUERY_WORDS.has(word) || word === 'explain') {
        inQuery = true;
        e = 'quiet';
      } else if (DML_WORDS.has(word)) e = 'tables';
      else if (QUIET_WORDS.has(word)) e = 'quiet';
      else if (DDL_WORDS.has(word)) e = 'ddl';
      else e = 'broad'; // truncate, do, call, execute, refresh, cluster, reindex, anything unknown
      if (RANK[e] > RANK[effect]) effect = e;
      continue;
    }
    // A query that modifies through a CTE or SELECT INTO names its targets like DML does.
    if (inQuery && kind === 'word' && (MODIFYING_WORDS.has(text) || (text === 'update' && !tokens.isWord(i - 1, 'for') && !tokens.isWord(i - 1, 'key') && !tokens.isWord(i - 1, 'do')))) {
      if (RANK.tables > RANK[effect]) effect = 'tables';
    }
  }
  if (RANK[effect] >= RANK.broad) return effect;
  for (const statement of analyzeSql(sql).statements) {
    for (const call of statement.calls) {
      const builtIn = call.schema === undefined || call.schema === 'pg_catalog';
      // Built-ins that write (nextval, advisory locks, pg_notify) touch no table; dblink may reach this very database.
      if (builtIn && (isReadOnlyFunction(call.name) || (isWriteFunction(call.name) && !call.name.startsWith('dblink')))) continue;
      if (safeCall(call.name, call.schema)) continue;
      return 'broad';
    }
  }
  return effect;
}

/** The more far-reaching of two effects. */
export function widerEffect(a: WriteEffect, b: WriteEffect): WriteEffect {
  return RANK[a] >= RANK[b] ? a : b;
}
