import { isSyntaxParen } from './non-call-keywords';
import type { SqlTokens } from './sql-tokens';

/**
 * A possibly schema-qualified name read from the token stream. Internal.
 *
 * @example
 * // tokens of `app."Feature Flags"` →
 * const name: QualifiedName = { name: 'Feature Flags', schema: 'app', display: 'app.Feature Flags', next: 3 };
 */
export interface QualifiedName {
  /** Last part: the object's own name. */
  name: string;
  /** Part before the last, when qualified. */
  schema: string | undefined;
  /** All parts joined with `.`, as the classifier reports them. */
  display: string;
  /** Index of the first token after the name. */
  next: number;
}

/**
 * Reads `a`, `a.b` or `a.b.c` (words or quoted identifiers) starting at `i`.
 * Returns undefined when token `i` is not a name.
 *
 * @example
 * readQualifiedName(lexSql('public.users u'), 0); // { name: 'users', schema: 'public', display: 'public.users', next: 3 }
 */
export function readQualifiedName(tokens: SqlTokens, i: number): QualifiedName | undefined {
  if (!tokens.isName(i)) return undefined;
  let display = tokens.text(i);
  let schema: string | undefined;
  let name = display;
  let next = i + 1;
  // Three parts at most: database.schema.relation.
  for (let parts = 1; parts < 3 && tokens.isPunct(next, '.') && tokens.isName(next + 1); parts++) {
    schema = name;
    name = tokens.text(next + 1);
    display += '.' + name;
    next += 2;
  }
  return { name, schema, display, next };
}

// Words after `update` showing it is a column or alias named "update", not an UPDATE statement.
const NOT_UPDATE_TARGET: ReadonlySet<string> = new Set([
  'from', 'where', 'as', 'and', 'or', 'is', 'not', 'in', 'like', 'ilike', 'between', 'order',
  'group', 'limit', 'offset', 'having', 'union', 'except', 'intersect', 'then', 'else', 'end',
  'when', 'for', 'into', 'on', 'join', 'left', 'right', 'inner', 'full', 'cross', 'natural',
  'using', 'returning', 'window', 'fetch', 'desc', 'asc', 'nulls', 'collate', 'over', 'filter',
  // MERGE ... WHEN MATCHED THEN UPDATE SET
  'set',
]);

/**
 * True when the word `update` at `i` starts an UPDATE statement (top level, in a
 * CTE, or as the main statement after a WITH list) rather than being part of
 * `FOR UPDATE`, `FOR NO KEY UPDATE`, `DO UPDATE` or a column named update.
 *
 * @example
 * isUpdateStatementAt(lexSql('with x as (update t set a = 1) select 1'), 4); // true
 * isUpdateStatementAt(lexSql('select 1 for update'), 3);                    // false
 */
export function isUpdateStatementAt(tokens: SqlTokens, i: number): boolean {
  if (!tokens.isWord(i, 'update')) return false;
  const before = i - 1;
  if (
    tokens.isWord(before, 'for') ||
    tokens.isWord(before, 'key') ||
    tokens.isWord(before, 'do') ||
    tokens.isWord(before, 'as') ||
    tokens.isPunct(before, '.') ||
    tokens.isPunct(before, '::')
  ) {
    return false;
  }
  const kind = tokens.kind(i + 1);
  if (kind === 'quoted') return true;
  return kind === 'word' && !NOT_UPDATE_TARGET.has(tokens.text(i + 1));
}

/**
 * True when the `(` at `p` opens the argument list of a function call, or of a
 * function-like construct such as `extract(... from ...)`: its `from` does not
 * start a FROM clause. `statementStart` is the index of the statement's first
 * token, so `copy (select ...)` is not mistaken for a call of `copy`.
 *
 * @example
 * isCallParen(lexSql('select extract(year from now())'), 2, 0); // true
 * isCallParen(lexSql('select exists (select 1)'), 2, 0);        // false
 */
export function isCallParen(tokens: SqlTokens, p: number, statementStart: number): boolean {
  const before = p - 1;
  if (before <= statementStart) return false;
  const kind = tokens.kind(before);
  if (kind === 'quoted') return true;
  return kind === 'word' && !isSyntaxParen(tokens, before);
}
