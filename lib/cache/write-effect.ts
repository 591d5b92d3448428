import { isDdl } from '../classify/is-ddl';
import { isSyntaxParen } from '../classify/non-call-keywords';
import { isReadOnlyFunction } from '../classify/read-only-functions';
import { lexSql } from '../classify/sql-lexer';
import type { SqlTokens } from '../classify/sql-tokens';
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
// Words that, inside a query, mean a data-modifying CTE or SELECT INTO.
const MODIFYING_WORDS = new Set(['insert', 'delete', 'merge', 'into']);
// Words followed by `(` in DML that are syntax: `SET (a, b) = …`, MERGE's `INSERT (cols)`.
const NOT_CALLS = new Set(['set', 'insert']);

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
  // The one DDL detection (the lexer's), shared with the catalog: a schema change clears everything.
  if (isDdl(sql)) return 'ddl';
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
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (!tokens.isPunct(i + 1, '(') || !tokens.isName(i)) continue;
    const call = callAt(tokens, i);
    if (call === undefined) continue;
    const builtIn = call.schema === undefined || call.schema === 'pg_catalog';
    // Built-ins that write (nextval, advisory locks, pg_notify) touch no table; dblink may reach this very database.
    if (builtIn && (isReadOnlyFunction(call.name) || (isWriteFunction(call.name) && !call.name.startsWith('dblink')))) continue;
    if (safeCall(call.name, call.schema)) continue;
    return 'broad';
  }
  return effect;
}

// The function called by the name at `i` (followed by `(`), or undefined when the paren is
// syntax. Erring towards "a call" only costs a wider invalidation.
function callAt(tokens: SqlTokens, i: number): { name: string; schema: string | undefined } | undefined {
  const quoted = tokens.kinds[i] === 'quoted';
  const name = tokens.text(i);
  if (!quoted && (isSyntaxParen(tokens, i) || NOT_CALLS.has(name))) return undefined;
  let first = i;
  let schema: string | undefined;
  if (tokens.isPunct(i - 1, '.') && tokens.isName(i - 2)) {
    schema = tokens.text(i - 2);
    first = i - 2;
    if (tokens.isPunct(i - 3, '.') && tokens.isName(i - 4)) first = i - 4;
  }
  const before = first - 1;
  // INSERT INTO t (cols), `::numeric(10, 2)`, `as t(a, b)`, `) t(a, b)`, ON CONFLICT (cols).
  if (tokens.isWord(before, 'into') || tokens.isPunct(before, '::') || tokens.isWord(before, 'as') || tokens.isPunct(before, ')')) return undefined;
  if (!quoted && name === 'conflict' && tokens.isWord(before, 'on')) return undefined;
  return { name, schema };
}

/** The more far-reaching of two effects. */
export function widerEffect(a: WriteEffect, b: WriteEffect): WriteEffect {
  return RANK[a] >= RANK[b] ? a : b;
}
