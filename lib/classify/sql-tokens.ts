/**
 * Kinds of token the SQL lexer produces.
 *
 * - `word`: an unquoted identifier or keyword, lower-cased (ASCII only, as PostgreSQL does)
 * - `quoted`: a quoted identifier (`"Name"`), text kept exact with `""` unescaped
 * - `string`: any string literal (`'..'`, `E'..'`, `U&'..'`, `B'..'`, `X'..'`, `$$..$$`)
 * - `number`, `param` (`$1`), `placeholder` (a lone knex `?`), `operator`
 * - punctuation, whose text is the character itself: `(`, `)`, `,`, `;`, `.`, `[`, `]`, `:`, `::`
 * - `other`: a character PostgreSQL would reject (`{`, `\`, control bytes...)
 *
 * @example
 * const kind: TokenKind = 'word';
 */
export type TokenKind =
  | 'word'
  | 'quoted'
  | 'string'
  | 'number'
  | 'param'
  | 'placeholder'
  | 'operator'
  | 'punct'
  | 'other';

/**
 * A compact token stream: parallel arrays instead of one object per token, so a
 * typical query allocates a handful of arrays rather than dozens of objects.
 * Internal to the classifier.
 *
 * Out-of-range reads are safe: `kind(i)` returns `'end'` and `text(i)` returns `''`,
 * which lets the classifier look ahead without bounds checks.
 *
 * @example
 * const tokens = lexSql('select 1');
 * tokens.isWord(0, 'select'); // true
 * tokens.kind(5);             // 'end'
 */
export class SqlTokens {
  /** Kind of each token. */
  readonly kinds: TokenKind[] = [];
  /** Normalized text of each token (see {@link TokenKind}). */
  readonly texts: string[] = [];
  /**
   * For a `(` token, the index of its matching `)`; for a `)`, the index of its
   * `(`; -1 for unmatched parentheses (unclosed in their statement) and every
   * other token.
   */
  readonly partners: number[] = [];
  /** Parenthesis depth of each token; a `(` and its `)` have the depth outside them. */
  readonly depths: number[] = [];

  /** Number of tokens. */
  get length(): number {
    return this.kinds.length;
  }

  /** Kind of token `i`, or `'end'` past either end. */
  kind(i: number): TokenKind | 'end' {
    return this.kinds[i] ?? 'end';
  }

  /** Text of token `i`, or `''` past either end. */
  text(i: number): string {
    return this.texts[i] ?? '';
  }

  /** Index of the `)` matching the `(` at `i`, or -1. */
  close(i: number): number {
    return this.texts[i] === '(' && this.kinds[i] === 'punct' ? (this.partners[i] ?? -1) : -1;
  }

  /** Index of the `(` matching the `)` at `i`, or -1. */
  open(i: number): number {
    return this.texts[i] === ')' && this.kinds[i] === 'punct' ? (this.partners[i] ?? -1) : -1;
  }

  /** Paren depth of token `i` (0 past either end). */
  depth(i: number): number {
    return this.depths[i] ?? 0;
  }

  /** True when token `i` is the unquoted word `word` (give it lower-case). */
  isWord(i: number, word: string): boolean {
    return this.kinds[i] === 'word' && this.texts[i] === word;
  }

  /** True when token `i` is the punctuation `punct` (`(`, `)`, `,`, `;`, `.`, `::`...). */
  isPunct(i: number, punct: string): boolean {
    return this.kinds[i] === 'punct' && this.texts[i] === punct;
  }

  /** True when token `i` names something: an unquoted word or a quoted identifier. */
  isName(i: number): boolean {
    const kind = this.kinds[i];
    return kind === 'word' || kind === 'quoted';
  }

  /** Appends a token; used by the lexer only. */
  push(kind: TokenKind, text: string, depth: number): number {
    this.kinds.push(kind);
    this.texts.push(text);
    this.partners.push(-1);
    this.depths.push(depth);
    return this.kinds.length - 1;
  }
}
