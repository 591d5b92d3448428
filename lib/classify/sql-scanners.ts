/**
 * Character-level scanners of the SQL lexer: character classes and the loops
 * that skip comments and literals. Each returns an index and never throws;
 * unterminated input runs to the end of the text. Internal to the classifier.
 */

/** Character codes the lexer compares against, e.g. `sql.charCodeAt(i) === QUOTE`. */
export const LF = 10;
export const CR = 13;
export const QUOTE = 39; // '
export const DQUOTE = 34; // "
export const DOLLAR = 36; // $
export const BACKSLASH = 92;
export const DOT = 46;
export const MINUS = 45;
export const SLASH = 47;
export const STAR = 42;
export const AMP = 38;
export const EQUALS = 61;
export const QUESTION = 63;

/** True for `0`-`9`. @example isDigit('7'.charCodeAt(0)); // true */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * True for a character that can start an unquoted identifier: a letter, `_`, or
 * any non-ASCII character (PostgreSQL accepts every high-bit byte).
 * @example isIdentStart('é'.charCodeAt(0)); // true
 */
export function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
}

/** True for a character that can continue an identifier: also digits and `$`. @example isIdentContinue(36); // true */
export function isIdentContinue(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === DOLLAR;
}

/** True for PostgreSQL's operator characters `~ ! @ # ^ & | \` ? + - * / % < > =`. @example isOperatorChar(63); // true ('?') */
export function isOperatorChar(c: number): boolean {
  switch (c) {
    case 126: case 33: case 64: case 35: case 94: case AMP: case 124: case 96:
    case QUESTION: case 43: case MINUS: case STAR: case SLASH: case 37: case 60:
    case 62: case EQUALS:
      return true;
    default:
      return false;
  }
}

/**
 * Lower-cases an unquoted identifier the way PostgreSQL does in a UTF-8 database:
 * ASCII letters only. The flags say what the scan saw, so most words cost nothing.
 * @example downcaseIdentifier('ÉMILE', true, true); // 'Émile'
 */
export function downcaseIdentifier(word: string, hasUpper: boolean, hasHigh: boolean): string {
  if (!hasUpper) return word;
  if (!hasHigh) return word.toLowerCase();
  return word.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** Index after the `--` comment whose text starts at `from`. @example skipLineComment('-- x\n1', 2); // 5 */
export function skipLineComment(sql: string, from: number): number {
  let i = from;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === LF || c === CR) return i + 1;
    i++;
  }
  return n;
}

/**
 * Index after the block comment whose text starts at `from` (just past its `/*`).
 * Block comments nest in PostgreSQL: `/* a /* b *\/ still comment *\/`.
 * @example skipBlockComment('/* /* *\/ *\/1', 2); // 11
 */
export function skipBlockComment(sql: string, from: number): number {
  let nesting = 1;
  let i = from;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : -1;
    if (c === SLASH && next === STAR) {
      nesting++;
      i += 2;
    } else if (c === STAR && next === SLASH) {
      nesting--;
      i += 2;
      if (nesting === 0) return i;
    } else {
      i++;
    }
  }
  return n;
}

/**
 * Scans a quoted literal or identifier whose opening quote precedes `from`;
 * a doubled quote is an escaped quote, and with `backslashes` (E'' strings) a
 * backslash escapes the next character. Returns the index of the closing quote,
 * or -1 when the literal runs to the end of the text.
 *
 * @example
 * scanQuoted("'it''s' x", 1, 39, false); // 6
 */
export function scanQuoted(sql: string, from: number, quote: number, backslashes: boolean): number {
  let i = from;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslashes && c === BACKSLASH) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (i + 1 < n && sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i;
    }
    i++;
  }
  return -1;
}

/** Undoes `""` escapes of a quoted identifier's body. @example unescapeQuotes('a""b'); // 'a"b' */
export function unescapeQuotes(body: string): string {
  return body.indexOf('"') >= 0 ? body.replace(/""/g, '"') : body;
}

/**
 * `$` at `from - 1` starts a dollar quote when followed by an optional tag
 * (identifier characters, not starting with a digit, no `$`) and another `$`.
 * Returns the index of the second `$`, or -1.
 *
 * @example
 * scanDollarTag('$fn$ body $fn$', 1); // 3
 */
export function scanDollarTag(sql: string, from: number): number {
  let i = from;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === DOLLAR) return i;
    if (i === from ? !isIdentStart(c) : !(isIdentStart(c) || isDigit(c))) return -1;
    i++;
  }
  return -1;
}

/**
 * Finds `delimiter` in `sql` from `from`. Short delimiters use `indexOf`; long
 * ones use Knuth-Morris-Pratt so a crafted long tag cannot make the scan quadratic.
 *
 * @example
 * findDelimiter('$$ a $$', '$$', 2); // 5
 */
export function findDelimiter(sql: string, delimiter: string, from: number): number {
  const m = delimiter.length;
  if (m <= 16) return sql.indexOf(delimiter, from);
  const failure = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && delimiter.charCodeAt(i) !== delimiter.charCodeAt(k)) k = failure[k - 1] ?? 0;
    if (delimiter.charCodeAt(i) === delimiter.charCodeAt(k)) k++;
    failure[i] = k;
  }
  for (let i = from, k = 0; i < sql.length; i++) {
    while (k > 0 && sql.charCodeAt(i) !== delimiter.charCodeAt(k)) k = failure[k - 1] ?? 0;
    if (sql.charCodeAt(i) === delimiter.charCodeAt(k)) k++;
    if (k === m) return i - m + 1;
  }
  return -1;
}

/** Index after the numeric literal at `from`: digits [. digits] [e [+-] digits], or . digits [...]. @example scanNumber('1.5e3,', 0); // 5 */
export function scanNumber(sql: string, from: number): number {
  const n = sql.length;
  let i = from;
  while (i < n && isDigit(sql.charCodeAt(i))) i++;
  // `1..2` is not a number range in SQL; stop before a second dot.
  if (i < n && sql.charCodeAt(i) === DOT && !(i + 1 < n && sql.charCodeAt(i + 1) === DOT)) {
    i++;
    while (i < n && isDigit(sql.charCodeAt(i))) i++;
  }
  if (i < n && (sql.charCodeAt(i) | 0x20) === 101) {
    let j = i + 1;
    const sign = j < n ? sql.charCodeAt(j) : -1;
    if (sign === 43 || sign === MINUS) j++;
    if (j < n && isDigit(sql.charCodeAt(j))) {
      i = j;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
    }
  }
  return i;
}
