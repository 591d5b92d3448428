import { SqlTokens } from './sql-tokens';
import {
  AMP, CR, DOLLAR, DOT, DQUOTE, EQUALS, LF, MINUS, QUESTION, QUOTE, SLASH, STAR,
  downcaseIdentifier, findDelimiter, isDigit, isIdentContinue, isIdentStart, isOperatorChar,
  scanDollarTag, scanNumber, scanQuoted, skipBlockComment, skipLineComment, unescapeQuotes,
} from './sql-scanners';

// Whitespace and punctuation codes only the main loop needs.
const SPACE = 32;
const TAB = 9;
const VT = 11;
const FF = 12;
const COLON = 58;

/**
 * Splits SQL text into tokens the way PostgreSQL's scanner (scan.l) does, closely
 * enough to classify statements: comments are dropped (`--` and nested `/* *\/`),
 * string literals of every flavour (`''`, `E''` with backslash escapes, `U&''`,
 * `B''`, `X''`, `N''`, `$$..$$`, `$tag$..$tag$`) become single `string` tokens so
 * that words inside them are never mistaken for keywords, and quoted identifiers
 * keep their exact text. Unquoted words are lower-cased.
 *
 * Never throws and runs in time linear in the length of the text: each character
 * is looked at a bounded number of times, and unterminated literals or comments
 * simply run to the end of the text. Paren depths reset at every `;`.
 *
 * @example
 * const tokens = lexSql(`SELECT "Id" FROM users -- trailing\nWHERE note = 'it''s'`);
 * tokens.texts; // ['select', 'Id', 'from', 'users', 'where', 'note', '=', "it''s"]
 */
export function lexSql(sql: string): SqlTokens {
  const tokens = new SqlTokens();
  const n = sql.length;
  const openParens: number[] = [];
  let depth = 0;
  let i = 0;

  while (i < n) {
    const c = sql.charCodeAt(i);

    if (c === SPACE || c === LF || c === TAB || c === CR || c === FF || c === VT) {
      i++;
      continue;
    }

    const next = i + 1 < n ? sql.charCodeAt(i + 1) : -1;

    if (c === MINUS && next === MINUS) {
      i = skipLineComment(sql, i + 2);
      continue;
    }
    if (c === SLASH && next === STAR) {
      i = skipBlockComment(sql, i + 2);
      continue;
    }

    if (c === QUOTE) {
      const close = scanQuoted(sql, i + 1, QUOTE, false);
      tokens.push('string', sql.slice(i + 1, close < 0 ? n : close), depth);
      i = close < 0 ? n : close + 1;
      continue;
    }

    if (isIdentStart(c)) {
      // Prefixed string literals: E'..', B'..', X'..', N'..', U&'..', U&"..".
      const lower = c | 0x20;
      if (next === QUOTE && (lower === 101 || lower === 98 || lower === 120 || lower === 110)) {
        // e, b, x, n
        const close = scanQuoted(sql, i + 2, QUOTE, lower === 101);
        tokens.push('string', sql.slice(i + 2, close < 0 ? n : close), depth);
        i = close < 0 ? n : close + 1;
        continue;
      }
      if (lower === 117 && next === AMP && i + 2 < n) {
        // u&
        const third = sql.charCodeAt(i + 2);
        if (third === QUOTE || third === DQUOTE) {
          const close = scanQuoted(sql, i + 3, third, false);
          const body = sql.slice(i + 3, close < 0 ? n : close);
          if (third === QUOTE) tokens.push('string', body, depth);
          else if (body === '') tokens.push('other', '""', depth);
          else tokens.push('quoted', unescapeQuotes(body), depth);
          i = close < 0 ? n : close + 1;
          continue;
        }
      }
      let j = i + 1;
      let hasUpper = c >= 65 && c <= 90;
      let hasHigh = c >= 0x80;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (!isIdentContinue(d)) break;
        if (d >= 65 && d <= 90) hasUpper = true;
        else if (d >= 0x80) hasHigh = true;
        j++;
      }
      tokens.push('word', downcaseIdentifier(sql.slice(i, j), hasUpper, hasHigh), depth);
      i = j;
      continue;
    }

    if (c === DQUOTE) {
      const close = scanQuoted(sql, i + 1, DQUOTE, false);
      const name = unescapeQuotes(sql.slice(i + 1, close < 0 ? n : close));
      // PostgreSQL rejects a zero-length quoted identifier; it names nothing.
      tokens.push(name === '' ? 'other' : 'quoted', name === '' ? '""' : name, depth);
      i = close < 0 ? n : close + 1;
      continue;
    }

    if (c === DOLLAR) {
      if (isDigit(next)) {
        let j = i + 2;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
        tokens.push('param', sql.slice(i, j), depth);
        i = j;
        continue;
      }
      const tagEnd = scanDollarTag(sql, i + 1);
      if (tagEnd >= 0) {
        const delimiter = sql.slice(i, tagEnd + 1);
        const bodyStart = tagEnd + 1;
        const close = findDelimiter(sql, delimiter, bodyStart);
        const bodyEnd = close < 0 ? n : close;
        tokens.push('string', sql.slice(bodyStart, bodyEnd), depth);
        i = close < 0 ? n : close + delimiter.length;
        continue;
      }
      tokens.push('other', '$', depth);
      i++;
      continue;
    }

    if (isDigit(c) || (c === DOT && isDigit(next))) {
      const end = scanNumber(sql, i);
      tokens.push('number', sql.slice(i, end), depth);
      i = end;
      continue;
    }

    switch (c) {
      case 40: {
        // (
        const index = tokens.push('punct', '(', depth);
        openParens.push(index);
        depth++;
        i++;
        continue;
      }
      case 41: {
        // )
        const open = openParens.pop();
        if (depth > 0) depth--;
        const index = tokens.push('punct', ')', depth);
        if (open !== undefined) {
          tokens.partners[open] = index;
          tokens.partners[index] = open;
        }
        i++;
        continue;
      }
      case 59: // ;
        // A statement boundary: whatever the previous statement left open stays open.
        openParens.length = 0;
        depth = 0;
        tokens.push('punct', ';', depth);
        i++;
        continue;
      case 44: // ,
      case DOT:
      case 91: // [
      case 93: // ]
        tokens.push('punct', sql[i] ?? '', depth);
        i++;
        continue;
      case COLON:
        if (next === COLON) {
          tokens.push('punct', '::', depth);
          i += 2;
        } else if (next === EQUALS) {
          tokens.push('operator', ':=', depth);
          i += 2;
        } else {
          tokens.push('punct', ':', depth);
          i++;
        }
        continue;
      default:
        break;
    }

    if (isOperatorChar(c)) {
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (!isOperatorChar(d)) break;
        // A comment start ends the operator, as in PostgreSQL.
        const e = j + 1 < n ? sql.charCodeAt(j + 1) : -1;
        if ((d === MINUS && e === MINUS) || (d === SLASH && e === STAR)) break;
        j++;
      }
      if (j === i + 1 && c === QUESTION) tokens.push('placeholder', '?', depth);
      else tokens.push('operator', sql.slice(i, j), depth);
      i = j;
      continue;
    }

    // Anything else (control characters, `{`, `\` outside strings...) is junk that
    // PostgreSQL would reject; keep it as a token so it still separates words.
    tokens.push('other', sql[i] ?? '', depth);
    i++;
  }

  return tokens;
}
