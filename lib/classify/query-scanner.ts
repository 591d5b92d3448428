import { isSyntaxParen } from './non-call-keywords';
import type { SqlTokens } from './sql-tokens';
import { isUpdateStatementAt } from './token-patterns';
import { isRefusedDuringRecovery } from './recovery-functions';
import { isWriteFunction } from './write-functions';

/**
 * A function called in a query, as written: name lower-cased unless quoted.
 *
 * @example
 * const call: FunctionCall = { name: 'slugify', schema: 'app', display: 'app.slugify' };
 */
export interface FunctionCall {
  name: string;
  schema: string | undefined;
  display: string;
}

/**
 * What a query (SELECT, WITH, VALUES, TABLE, or the query of COPY / EXPLAIN
 * ANALYZE) does beyond reading: `write` is the reason it must run on the
 * primary whatever the options, and `calls` the functions it calls, which the
 * options may clear or not.
 *
 * @example
 * const scan: QueryScan = { write: 'row lock FOR UPDATE', calls: [], createsTable: false };
 */
export interface QueryScan {
  write: string | undefined;
  calls: FunctionCall[];
  /** True for `SELECT … INTO`: it creates a table (DDL). */
  createsTable: boolean;
}

/**
 * Walks the tokens `[start, end)` of a query at every paren depth and reports
 * the first thing that makes it a write: a data-modifying statement in a CTE or
 * after the WITH list, `SELECT ... INTO`, or a row lock (`FOR UPDATE`,
 * `FOR NO KEY UPDATE`, `FOR SHARE`, `FOR KEY SHARE`). Otherwise it collects the
 * function calls for the caller to judge. Internal to the classifier.
 *
 * @example
 * scanQuery(lexSql('select * from t for update skip locked'), 0, 7).write; // 'row lock FOR UPDATE'
 * scanQuery(lexSql('select lower(name) from users'), 0, 7).calls;          // [{ name: 'lower', ... }]
 */
export function scanQuery(tokens: SqlTokens, start: number, end: number): QueryScan {
  const calls: FunctionCall[] = [];
  for (let i = start; i < end; i++) {
    const kind = tokens.kinds[i];
    if (kind !== 'word' && kind !== 'quoted') continue;
    if (kind === 'word') {
      const write = writeAt(tokens, i, start);
      if (write !== undefined) {
        return { write, calls, createsTable: write.startsWith(SELECT_INTO) || selectIntoFrom(tokens, i + 1, end) };
      }
    }
    if (tokens.isPunct(i + 1, '(')) {
      const call = callAt(tokens, i);
      if (call !== undefined) calls.push(call);
    }
  }
  return { write: undefined, calls, createsTable: false };
}

const SELECT_INTO = 'SELECT INTO';

// After a first write (`with d as (delete …) select * into t from d`), whether a SELECT …
// INTO still follows: it makes the statement DDL as well. The INTO of INSERT / MERGE is not one.
function selectIntoFrom(tokens: SqlTokens, from: number, end: number): boolean {
  for (let k = from; k < end; k++) {
    if (!tokens.isWord(k, 'into') || tokens.isPunct(k - 1, '.')) continue;
    if (!tokens.isWord(k - 1, 'insert') && !tokens.isWord(k - 1, 'merge')) return true;
  }
  return false;
}

// The reason the word at `i` makes the query a write, if it does.
function writeAt(tokens: SqlTokens, i: number, start: number): string | undefined {
  const word = tokens.text(i);
  const afterDot = tokens.isPunct(i - 1, '.');
  // `count(*) as delete from t`: a column alias named like the keyword.
  const afterAs = tokens.isWord(i - 1, 'as');
  switch (word) {
    case 'insert':
      if (!afterDot && tokens.isWord(i + 1, 'into')) return dataModifying(tokens, i, start, 'INSERT');
      return undefined;
    case 'delete':
      if (!afterDot && !afterAs && tokens.isWord(i + 1, 'from')) return dataModifying(tokens, i, start, 'DELETE');
      return undefined;
    case 'merge':
      if (!afterDot && tokens.isWord(i + 1, 'into')) return dataModifying(tokens, i, start, 'MERGE');
      return undefined;
    case 'update':
      return isUpdateStatementAt(tokens, i) ? dataModifying(tokens, i, start, 'UPDATE') : undefined;
    case 'into':
      // `into` is reserved, so outside INSERT/MERGE it can only be SELECT ... INTO,
      // which creates a table (a temporary one with INTO TEMP).
      if (afterDot) return undefined;
      if (tokens.isWord(i + 1, 'temp') || tokens.isWord(i + 1, 'temporary')) {
        return 'SELECT INTO creates a temporary table';
      }
      return 'SELECT INTO creates a table';
    case 'for':
      return rowLockAt(tokens, i);
    default:
      return undefined;
  }
}

function dataModifying(tokens: SqlTokens, i: number, start: number, statement: string): string {
  return tokens.depth(i) > tokens.depth(start) ? `data-modifying CTE (${statement})` : `write statement ${statement}`;
}

// FOR UPDATE | FOR NO KEY UPDATE | FOR SHARE | FOR KEY SHARE; not FOR READ ONLY,
// FOR ORDINALITY, or the FOR of substring(x for 2) and overlay(... for n).
function rowLockAt(tokens: SqlTokens, i: number): string | undefined {
  if (tokens.isWord(i + 1, 'update')) return 'row lock FOR UPDATE';
  if (tokens.isWord(i + 1, 'share')) return 'row lock FOR SHARE';
  if (tokens.isWord(i + 1, 'no') && tokens.isWord(i + 2, 'key') && tokens.isWord(i + 3, 'update')) {
    return 'row lock FOR NO KEY UPDATE';
  }
  if (tokens.isWord(i + 1, 'key') && tokens.isWord(i + 2, 'share')) return 'row lock FOR KEY SHARE';
  return undefined;
}

/**
 * The function called by the name at `i` (followed by `(`), or undefined when the
 * `(` belongs to syntax: a keyword (`exists (`), a type modifier (`::numeric(10, 2)`,
 * `cast(x as varchar(20))`), a column alias list (`as t(a, b)`, `) t(a, b)`), a CTE
 * column list (`with t(a) as (`), or a TABLESAMPLE method. Write functions are
 * reported even in those positions: missing one would be the costly mistake.
 */
function callAt(tokens: SqlTokens, i: number): FunctionCall | undefined {
  const quoted = tokens.kinds[i] === 'quoted';
  const name = tokens.text(i);
  if (!quoted && isSyntaxParen(tokens, i)) return undefined;

  let schema: string | undefined;
  let display = name;
  let first = i;
  if (tokens.isPunct(i - 1, '.') && tokens.isName(i - 2)) {
    schema = tokens.text(i - 2);
    display = `${schema}.${name}`;
    first = i - 2;
    // database.schema.function
    if (tokens.isPunct(i - 3, '.') && tokens.isName(i - 4)) first = i - 4;
  }

  const call: FunctionCall = { name, schema, display };
  if (!quoted && (isWriteFunction(name) || isRefusedDuringRecovery(name))) return call;

  const before = first - 1;
  if (
    tokens.isPunct(before, '::') ||
    // `) t(a, b)` is a column alias list, but `OPERATOR(pg_catalog.+) f(x)` is a call.
    (tokens.isPunct(before, ')') && !tokens.isWord(tokens.open(before) - 1, 'operator')) ||
    tokens.isWord(before, 'as') ||
    tokens.isWord(before, 'ordinality') ||
    tokens.isWord(before, 'tablesample')
  ) {
    return undefined;
  }
  if (isCteColumnList(tokens, i + 1)) return undefined;
  return call;
}

// `name (a, b) AS [NOT] [MATERIALIZED] (` : the parens after a CTE name list its columns.
function isCteColumnList(tokens: SqlTokens, open: number): boolean {
  const close = tokens.close(open);
  if (close < 0 || !tokens.isWord(close + 1, 'as')) return false;
  let k = close + 2;
  if (tokens.isWord(k, 'not')) k++;
  if (tokens.isWord(k, 'materialized')) k++;
  return tokens.isPunct(k, '(');
}
