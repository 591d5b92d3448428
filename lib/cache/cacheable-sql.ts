import { analyzeSql } from '../classify/analyze-sql';
import { isReadOnlyFunction } from '../classify/read-only-functions';
import type { FunctionCatalog } from '../classify';
import { lexSql } from '../classify/sql-lexer';

/** A relation as a statement names it: `schema` only when written. */
export interface RelationRef {
  schema: string | undefined;
  name: string;
  display: string;
}

/**
 * Whether a read's SQL text may be cached at all, independent of tables and routing:
 * `refusal` says why not; `relations` are what it reads.
 *
 * @example
 * const v: SqlCacheVerdict = { refusal: 'function now() changes between calls', relations: [] };
 */
export interface SqlCacheVerdict {
  refusal: string | undefined;
  relations: RelationRef[];
}

// Statements whose answer is a function of the tables they read.
const QUERY_WORDS = new Set(['select', 'with', 'values', 'table']);
// SQL keywords that read the clock or the session without parentheses.
const VOLATILE_KEYWORDS = new Set([
  'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp',
  'current_user', 'session_user', 'current_role', 'current_catalog', 'current_schema', 'user', 'system_user',
]);
// Read-only built-ins whose answer changes without any write: clock, randomness, session
// and server state. The classifier lets them run on replicas; the cache must not keep them.
const VOLATILE_FUNCTIONS = new Set([
  'now', 'random', 'random_normal', 'gen_random_uuid', 'clock_timestamp', 'statement_timestamp',
  'transaction_timestamp', 'timeofday', 'age', 'version', 'row_security_active', 'obj_description',
  'col_description', 'shobj_description', 'get_current_ts_config',
]);
const VOLATILE_PREFIXES = ['pg_', 'txid_', 'inet_', 'has_', 'to_reg', 'current_', 'mxid_'];
// Date/time literals PostgreSQL reads from the clock when it parses them.
const CLOCK_LITERALS = new Set(['now', 'today', 'tomorrow', 'yesterday']);

/**
 * Decides whether a read's text may be cached: every statement a query (SELECT, WITH,
 * VALUES, TABLE), no clock/session keywords (`current_date`, `current_user`…), no
 * `TABLESAMPLE`, no `'now'`-style literals, and only functions known to answer the same
 * for the same data: the classifier's read-only built-ins minus the clock, random and
 * session ones, or functions the catalog reports `immutable`.
 *
 * @example
 * cacheableSql('select * from users where id = ?').refusal;      // undefined
 * cacheableSql('select * from events where at > now()').refusal; // 'function now() changes between calls'
 */
export function cacheableSql(sql: string, catalog?: FunctionCatalog): SqlCacheVerdict {
  const tokens = lexSql(sql);
  let atStatementStart = true;
  for (let i = 0; i < tokens.length; i++) {
    const kind = tokens.kinds[i];
    const text = tokens.texts[i]!;
    if (kind === 'punct') {
      if (text === ';') atStatementStart = true;
      continue;
    }
    if (atStatementStart) {
      atStatementStart = false;
      if (kind !== 'word' || !QUERY_WORDS.has(text)) return refuse(`${kind === 'word' ? text.toUpperCase() : 'this statement'} is not a query`);
    }
    if (kind === 'word') {
      if (VOLATILE_KEYWORDS.has(text) && !tokens.isPunct(i - 1, '.')) return refuse(`${text.toUpperCase()} changes between calls`);
      if (text === 'tablesample') return refuse('TABLESAMPLE is random');
    } else if (kind === 'string' && CLOCK_LITERALS.has(text.trim().toLowerCase())) {
      return refuse(`the literal '${text.trim()}' reads the clock`);
    }
  }
  const analysis = analyzeSql(sql);
  const relations: RelationRef[] = [];
  for (const statement of analysis.statements) {
    if (statement.primary !== undefined) return refuse(statement.primary);
    for (const call of statement.calls) {
      if (!deterministicCall(call.name, call.schema, catalog)) {
        return refuse(`function ${call.display}() ${isReadOnlyFunction(call.name) ? 'changes between calls' : 'is not known to be immutable'}`);
      }
    }
    for (const t of statement.tables) relations.push({ schema: t.schema, name: t.name, display: t.display });
  }
  return { refusal: undefined, relations };
}

/**
 * True when a binding would make PostgreSQL read the clock (`'now'`, `'today'` given as a
 * timestamp parameter): such reads are not cached either.
 *
 * @example
 * clockBinding(['now']); // true
 */
export function clockBinding(bindings: readonly unknown[] | undefined): boolean {
  if (bindings === undefined) return false;
  for (const b of bindings) {
    if (typeof b === 'string' && b.length <= 12 && CLOCK_LITERALS.has(b.trim().toLowerCase())) return true;
  }
  return false;
}

function deterministicCall(name: string, schema: string | undefined, catalog: FunctionCatalog | undefined): boolean {
  if ((schema === undefined || schema === 'pg_catalog') && isReadOnlyFunction(name) && !volatileBuiltin(name)) return true;
  if (catalog === undefined) return false;
  try {
    return catalog.functionVolatility(name, schema) === 'immutable';
  } catch {
    return false;
  }
}

function volatileBuiltin(name: string): boolean {
  if (VOLATILE_FUNCTIONS.has(name)) return true;
  for (const p of VOLATILE_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

function refuse(reason: string): SqlCacheVerdict {
  return { refusal: reason, relations: [] };
}
