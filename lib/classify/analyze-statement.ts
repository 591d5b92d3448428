import { primaryStatementReason } from './primary-statements';
import { scanQuery, type FunctionCall } from './query-scanner';
import type { SqlTokens } from './sql-tokens';
import { extractTables, type RelationName } from './table-extractor';
import { readQualifiedName } from './token-patterns';
import { utilityTables } from './utility-tables';

/**
 * What one statement needs, independent of any option: options (known
 * functions, catalog, transaction) only decide about `calls`, `tables` and
 * `transactionLocal` when `primary` is unset. Internal to the classifier.
 *
 * @example
 * const analysis: StatementAnalysis = {
 *   primary: undefined, transactionLocal: undefined, read: 'read-only SELECT',
 *   calls: [{ name: 'lower', schema: undefined, display: 'lower' }],
 *   tables: [{ name: 'users', schema: undefined, display: 'users' }],
 *   ddl: false,
 * };
 */
export interface StatementAnalysis {
  /** Why the statement must run on the primary whatever the options; unset when it may read. */
  primary: string | undefined;
  /** Set for SET LOCAL: harmless inside a transaction, primary outside one. */
  transactionLocal: string | undefined;
  /** Why it may run on a replica, if nothing else objects. */
  read: string;
  /** Functions the statement would execute, still to be judged. */
  calls: FunctionCall[];
  /** Relations it names. */
  tables: RelationName[];
  /**
   * True when running it changes the schema, or may: see {@link DDL_WORDS}, `SELECT …
   * INTO` (creates a table) and `EXPLAIN ANALYZE` of either. The one DDL detection of
   * split-knex (`isDdl`).
   */
  ddl: boolean;
}

/**
 * First words of statements that change the schema (catalog rows other sessions see):
 * CREATE (temporary objects too), ALTER (ALTER SYSTEM too), DROP, COMMENT, SECURITY LABEL,
 * IMPORT FOREIGN SCHEMA, REASSIGN OWNED, GRANT, REVOKE; and DO, whose block usually runs
 * DDL in migrations (a procedure's CALL is left out: applications call them at high rates).
 */
const DDL_WORDS: ReadonlySet<string> = new Set([
  'create', 'alter', 'drop', 'comment', 'security', 'import', 'reassign', 'grant', 'revoke', 'do',
]);

// Statements that are queries: their first word, upper-cased for reasons.
const QUERY_WORDS: ReadonlySet<string> = new Set(['select', 'with', 'values', 'table']);
// Statements EXPLAIN (without ANALYZE) can plan without running them.
const EXPLAINABLE: ReadonlySet<string> = new Set([
  'select', 'with', 'values', 'table', 'insert', 'update', 'delete', 'merge', 'create', 'declare',
]);
// Statements COPY (...) TO accepts as its query.
const COPYABLE: ReadonlySet<string> = new Set([
  'select', 'with', 'values', 'table', 'insert', 'update', 'delete', 'merge',
]);

/**
 * Analyzes the statement in tokens `[start, end)` (no `;` inside). Never throws.
 * Internal to the classifier.
 *
 * @example
 * const tokens = lexSql('select * from users for update');
 * analyzeStatement(tokens, 0, tokens.length).primary; // 'row lock FOR UPDATE'
 */
export function analyzeStatement(tokens: SqlTokens, start: number, end: number): StatementAnalysis {
  const i = firstWord(tokens, start, end);
  if (i < 0) return primaryOnly(`unrecognized statement starting with ${describeToken(tokens, start, end)}`);
  const word = tokens.text(i);

  if (QUERY_WORDS.has(word)) return query(tokens, start, end, `read-only ${word.toUpperCase()}`);
  switch (word) {
    case 'show':
      return { ...primaryOnly(undefined), read: 'SHOW' };
    case 'explain':
      return explain(tokens, i, end);
    case 'copy':
      return copy(tokens, i, end);
    case 'set':
      return set(tokens, i);
    default:
      break;
  }

  const reason = primaryStatementReason(tokens, i);
  const analysis = primaryOnly(reason ?? `unknown statement type ${truncate(word).toUpperCase()}`);
  analysis.ddl = DDL_WORDS.has(word);
  if (word === 'insert' || word === 'update' || word === 'delete' || word === 'merge') {
    extractTables(tokens, start, end, analysis.tables);
  } else if (reason !== undefined) {
    utilityTables(tokens, i, end, analysis.tables);
  }
  return analysis;
}

function query(tokens: SqlTokens, start: number, end: number, read: string): StatementAnalysis {
  const scan = scanQuery(tokens, start, end);
  const tables: RelationName[] = [];
  extractTables(tokens, start, end, tables);
  return { primary: scan.write, transactionLocal: undefined, read, calls: scan.calls, tables, ddl: scan.createsTable };
}

// EXPLAIN [ ( option [, ...] ) ] statement | EXPLAIN [ ANALYZE ] [ VERBOSE ] statement
function explain(tokens: SqlTokens, at: number, end: number): StatementAnalysis {
  let j = at + 1;
  let analyze = false;
  if (tokens.isPunct(j, '(') && !startsQuery(tokens, j + 1)) {
    const close = tokens.close(j);
    if (close < 0) return primaryOnly('unrecognized EXPLAIN options');
    analyze = explainOptionsAnalyze(tokens, j + 1, close);
    j = close + 1;
  } else {
    for (;;) {
      if (tokens.isWord(j, 'analyze') || tokens.isWord(j, 'analyse')) analyze = true;
      else if (!tokens.isWord(j, 'verbose')) break;
      j++;
    }
  }

  const inner = firstWord(tokens, j, end);
  const innerWord = inner < 0 ? '' : tokens.text(inner);
  if (!EXPLAINABLE.has(innerWord)) {
    // EXPLAIN EXECUTE needs the session's prepared statement; others are not explainable.
    return primaryOnly(`EXPLAIN of ${innerWord === '' ? 'an unrecognized statement' : truncate(innerWord).toUpperCase()}`);
  }
  const analysis = analyzeStatement(tokens, j, end);
  if (analyze) {
    // EXPLAIN ANALYZE runs the statement: it is exactly as safe as the statement.
    if (analysis.primary !== undefined) analysis.primary = `EXPLAIN ANALYZE runs ${analysis.primary}`;
    analysis.read = `EXPLAIN ANALYZE of ${analysis.read}`;
    return analysis;
  }
  // Without ANALYZE nothing runs: a hot standby plans even INSERTs and FOR UPDATE.
  return {
    primary: undefined,
    transactionLocal: undefined,
    read: 'EXPLAIN without ANALYZE',
    calls: [],
    tables: analysis.tables,
    ddl: false,
  };
}

// True unless the option list holds ANALYZE set to false / off / 0.
function explainOptionsAnalyze(tokens: SqlTokens, from: number, close: number): boolean {
  let analyze = false;
  let itemStart = from;
  const depth = tokens.depth(from);
  for (let k = from; k <= close; k++) {
    if (k < close && !(tokens.depth(k) === depth && tokens.isPunct(k, ','))) continue;
    const name = tokens.text(itemStart);
    if (tokens.kinds[itemStart] === 'word' && (name === 'analyze' || name === 'analyse')) {
      // `ANALYZE` alone means true; any value but a false one counts as true.
      analyze = itemStart + 1 >= k || !isFalseOption(tokens.text(itemStart + 1).toLowerCase());
    }
    itemStart = k + 1;
  }
  return analyze;
}

function isFalseOption(value: string): boolean {
  return value === 'false' || value === 'off' || value === '0';
}

// COPY table [(cols)] FROM|TO ... | COPY (query) TO ...
function copy(tokens: SqlTokens, at: number, end: number): StatementAnalysis {
  let j = at + 1;
  let analysis: StatementAnalysis;
  let what: string;
  if (tokens.isPunct(j, '(')) {
    const close = tokens.close(j);
    const inner = firstWord(tokens, j + 1, close < 0 ? end : close);
    if (close < 0 || inner < 0 || !COPYABLE.has(tokens.text(inner))) {
      return primaryOnly('unrecognized COPY query');
    }
    analysis = analyzeStatement(tokens, j + 1, close);
    what = analysis.read;
    j = close + 1;
  } else {
    if (tokens.isWord(j, 'binary')) j++; // pre-9.0 syntax, still accepted
    const table = readQualifiedName(tokens, j);
    if (table === undefined) return primaryOnly('unrecognized COPY');
    analysis = primaryOnly(undefined);
    analysis.tables.push({ name: table.name, schema: table.schema, display: table.display });
    j = table.next;
    if (tokens.isPunct(j, '(')) {
      // column list
      const close = tokens.close(j);
      j = close < 0 ? end : close + 1;
    }
    what = 'table';
  }

  if (tokens.isWord(j, 'from')) return { ...analysis, primary: 'COPY FROM writes rows' };
  if (!tokens.isWord(j, 'to')) return { ...analysis, primary: 'unrecognized COPY' };
  if (tokens.isWord(j + 1, 'program')) return { ...analysis, primary: 'COPY TO PROGRAM runs a server command' };
  if (!tokens.isWord(j + 1, 'stdout')) return { ...analysis, primary: 'COPY TO writes a server file' };
  if (analysis.primary !== undefined) return { ...analysis, primary: `COPY of ${analysis.primary}` };
  return { ...analysis, read: `COPY TO STDOUT of ${what}` };
}

// SET LOCAL is scoped to the transaction; every other SET outlives it.
function set(tokens: SqlTokens, at: number): StatementAnalysis {
  const next = at + 1;
  if (tokens.isWord(next, 'local')) {
    return { ...primaryOnly(undefined), transactionLocal: 'SET LOCAL outside a transaction', read: 'SET LOCAL inside a transaction' };
  }
  if (tokens.isWord(next, 'transaction')) return primaryOnly('transaction characteristics SET TRANSACTION');
  if (tokens.isWord(next, 'constraints')) return primaryOnly('transaction state SET CONSTRAINTS');
  if (tokens.isWord(next, 'session') && tokens.isWord(next + 1, 'characteristics')) {
    return primaryOnly('session state SET SESSION CHARACTERISTICS');
  }
  return primaryOnly('session state SET');
}

function primaryOnly(reason: string | undefined): StatementAnalysis {
  return { primary: reason, transactionLocal: undefined, read: '', calls: [], tables: [], ddl: false };
}

// Index of the first word after any leading `(`, or -1 when there is none.
function firstWord(tokens: SqlTokens, start: number, end: number): number {
  let i = start;
  while (i < end && tokens.isPunct(i, '(')) i++;
  return i < end && tokens.kinds[i] === 'word' ? i : -1;
}

function startsQuery(tokens: SqlTokens, i: number): boolean {
  return tokens.isPunct(i, '(') || (tokens.kinds[i] === 'word' && QUERY_WORDS.has(tokens.text(i)));
}

function describeToken(tokens: SqlTokens, start: number, end: number): string {
  let i = start;
  while (i < end && tokens.isPunct(i, '(')) i++;
  if (i >= end) return 'parentheses only';
  const kind = tokens.kind(i);
  switch (kind) {
    case 'quoted':
      return 'a quoted identifier';
    case 'string':
      return 'a string literal';
    case 'number':
      return 'a number';
    default:
      return `'${truncate(tokens.text(i))}'`;
  }
}

// Reasons stay short even when the input is a megabyte of junk.
function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
