import { analyzeSql } from './analyze-sql';
import { isTempSchema } from './relation-rules';
import { lexSql } from './sql-lexer';
import { readQualifiedName } from './token-patterns';

// PostgreSQL's message for 42P01, with the name as the query wrote it (folded, unquoted).
const MISSING_RELATION = /relation "((?:[^"]|"")+)" does not exist/;

/**
 * True when `error` is PostgreSQL's 42P01 (undefined_table) about a relation that `sql`
 * names and that could be a temporary table: written unqualified, or qualified with
 * `pg_temp` / `pg_temp_N`. A standby has no temporary tables, so a read of one that went
 * to a replica fails there this way while the primary's session may have it; a schema-
 * qualified name (`app.t`) cannot be temporary, and a relation missing inside a function
 * or view body is not named by `sql`. Pure: it reads only its arguments. Never throws.
 *
 * The relation is taken from the message (`relation "t" does not exist`) or, when the
 * server speaks another language, from the error's `position` in `sql` (1-based, in
 * characters, as pg's `DatabaseError.position` gives it; only meaningful when `sql` is the
 * text the server received).
 *
 * @example
 * isTempRelationMiss({ code: '42P01', message: 'relation "import_rows" does not exist' }, 'select * from import_rows'); // true
 * isTempRelationMiss({ code: '42P01', message: 'relation "app.t" does not exist' }, 'select * from app.t');             // false
 * isTempRelationMiss({ code: '42703', message: 'column "x" does not exist' }, 'select x from t');                      // false
 */
export function isTempRelationMiss(error: unknown, sql: string): boolean {
  try {
    if (error === null || typeof error !== 'object' || typeof sql !== 'string') return false;
    const { code, message, position } = error as { code?: unknown; message?: unknown; position?: unknown };
    if (code !== '42P01') return false;
    const missing = typeof message === 'string' ? MISSING_RELATION.exec(message)?.[1]?.replace(/""/g, '"') : undefined;
    const named = missing ?? nameAtPosition(sql, position);
    if (named === undefined) return false;
    // The classifier reports relations as written, parts joined with '.', unquoted names
    // folded: the spelling PostgreSQL's message uses.
    if (!analyzeSql(sql).tables.includes(named)) return false;
    const dot = named.lastIndexOf('.');
    return dot < 0 || isTempSchema(named.slice(0, dot));
  } catch {
    return false;
  }
}

// The (possibly qualified) name starting at a 1-based character position of `sql`.
function nameAtPosition(sql: string, position: unknown): string | undefined {
  const at = typeof position === 'number' ? position : typeof position === 'string' ? Number(position) : NaN;
  if (!Number.isInteger(at) || at < 1 || at > sql.length) return undefined;
  // Lex from the position: the name is the first thing there.
  const tokens = lexSql(sql.slice(at - 1));
  return readQualifiedName(tokens, 0)?.display;
}
