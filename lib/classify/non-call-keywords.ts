import type { SqlTokens } from './sql-tokens';

/**
 * Keywords that may be followed by `(` without calling a function: `in (...)`,
 * `exists (...)`, `over (...)`, `filter (where ...)`, `within group (...)`,
 * `join ... using (id)`, `distinct on (...)`, `lateral (...)`, `row(...)`,
 * `array(...)`, `values (...)`, `grouping sets (...)`, `tablesample ... repeatable (...)`,
 * `OPERATOR(pg_catalog.+)`, and every reserved word that can start an expression
 * (`select (`, `where (`, `and (`, `case (`...).
 *
 * A name missing from this list is treated as a function call, and an unknown
 * call sends the query to the primary; so an omission costs a replica read, never
 * correctness. The reverse is not true, which is why unreserved words that users
 * could give to their own functions (`search`, `options`, `next`...) stay out.
 */
const NON_CALL_KEYWORDS: ReadonlySet<string> = new Set([
  // reserved words that can precede a parenthesized expression or subquery
  'all', 'and', 'any', 'array', 'as', 'asymmetric', 'between', 'both', 'by', 'case', 'cast',
  'collate', 'default', 'distinct', 'else', 'end', 'except', 'exists', 'false', 'fetch', 'for',
  'from', 'group', 'having', 'in', 'intersect', 'into', 'lateral', 'leading', 'limit', 'not',
  'null', 'offset', 'on', 'only', 'or', 'placing', 'returning', 'row', 'select', 'some',
  'symmetric', 'table', 'then', 'to', 'trailing', 'true', 'union', 'using', 'values',
  'variadic', 'when', 'where', 'with',
  // unreserved words whose `(` is syntax; nobody names a function after them
  'materialized', 'operator', 'repeatable', 'rollup', 'cube', 'sets', 'zone',
]);

// Words that may name a user function but are also infix syntax: `t join (...)`,
// `x like (...)`, `(a, b) overlaps (c, d)`, `x is (...)`; and words that follow an
// aggregate's `)`: `count(*) filter (where ...)`, `rank() over (...)`.
const INFIX_WORDS: ReadonlySet<string> = new Set(['join', 'like', 'ilike', 'overlaps', 'is']);
const AFTER_CALL_WORDS: ReadonlySet<string> = new Set(['filter', 'over']);

/**
 * True when the unquoted word at `i`, followed by `(`, is syntax rather than a
 * call given the token before it: keywords always; infix words (`join`, `like`,
 * `ilike`, `overlaps`, `is`) after an operand; `filter` and `over` after a `)`.
 * A function named like an infix word is still seen at the start of an
 * expression (`select like(x)`). Internal to the classifier.
 *
 * @example
 * isSyntaxParen(lexSql('select * from t join (select 1) s on true'), 4); // true
 * isSyntaxParen(lexSql('select exists (select 1)'), 1);                  // true: a keyword
 * isSyntaxParen(lexSql('select filter(x)'), 1);                          // false: a call
 */
export function isSyntaxParen(tokens: SqlTokens, i: number): boolean {
  const word = tokens.text(i);
  if (NON_CALL_KEYWORDS.has(word)) return true;
  if (AFTER_CALL_WORDS.has(word)) return tokens.isPunct(i - 1, ')');
  if (INFIX_WORDS.has(word)) return endsOperand(tokens, i - 1);
  return false;
}

// True when token `k` can end an operand: a value, a name that is not a keyword, `)` or `]`.
function endsOperand(tokens: SqlTokens, k: number): boolean {
  switch (tokens.kind(k)) {
    case 'quoted':
    case 'string':
    case 'number':
    case 'param':
    case 'placeholder':
      return true;
    case 'word':
      return !NON_CALL_KEYWORDS.has(tokens.text(k));
    case 'punct':
      return tokens.text(k) === ')' || tokens.text(k) === ']';
    default:
      return false;
  }
}
