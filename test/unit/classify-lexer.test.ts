import { expect } from 'chai';
import { lexSql } from '../../lib/classify/sql-lexer';

function tokens(sql: string): Array<[string, string]> {
  const lexed = lexSql(sql);
  return lexed.kinds.map((kind, i) => [kind, lexed.text(i)]);
}

// The lexer decides what the classifier can see: a keyword inside a string,
// comment or quoted name must never surface as a word.
describe('lexSql', () => {
  it('lower-cases unquoted words and keeps quoted identifiers exact', () => {
    expect(tokens('SELECT "Id", Name FROM "My ""Table"""')).to.deep.equal([
      ['word', 'select'],
      ['quoted', 'Id'],
      ['punct', ','],
      ['word', 'name'],
      ['word', 'from'],
      ['quoted', 'My "Table"'],
    ]);
  });

  it('folds only ASCII letters, as PostgreSQL does in UTF-8', () => {
    expect(lexSql('SELECT Émile').text(1)).to.equal('Émile');
    expect(lexSql('SELECT ÉMILE_X').text(1)).to.equal('Émile_x');
  });

  it('drops line comments and nested block comments', () => {
    expect(tokens('select /* a /* b */ delete */ 1 -- update\n, 2')).to.deep.equal([
      ['word', 'select'],
      ['number', '1'],
      ['punct', ','],
      ['number', '2'],
    ]);
  });

  it('keeps every flavour of string literal as one token', () => {
    const kinds = lexSql("select 'a''b', E'c\\'d', e'x', U&'\\0061', B'101', X'ff', N'n', $$e$$, $t$ $$ $t$").kinds;
    expect(kinds.filter((kind) => kind === 'string')).to.have.length(9);
    expect(kinds.filter((kind) => kind === 'word')).to.deep.equal(['word']);
  });

  it('does not let a backslash escape a quote in a standard string', () => {
    expect(tokens("select 'a\\' , 1")).to.deep.equal([
      ['word', 'select'],
      ['string', 'a\\'],
      ['punct', ','],
      ['number', '1'],
    ]);
  });

  it('reads dollar-quote tags but not parameters or identifiers containing $', () => {
    expect(tokens('select $1, a$b, $tag$x$tag$')).to.deep.equal([
      ['word', 'select'],
      ['param', '$1'],
      ['punct', ','],
      ['word', 'a$b'],
      ['punct', ','],
      ['string', 'x'],
    ]);
  });

  it('tells knex placeholders from jsonb operators and casts', () => {
    expect(tokens("a = ? and b ?| c and d::int and e ? 'k'")).to.deep.equal([
      ['word', 'a'],
      ['operator', '='],
      ['placeholder', '?'],
      ['word', 'and'],
      ['word', 'b'],
      ['operator', '?|'],
      ['word', 'c'],
      ['word', 'and'],
      ['word', 'd'],
      ['punct', '::'],
      ['word', 'int'],
      ['word', 'and'],
      ['word', 'e'],
      ['placeholder', '?'],
      ['string', 'k'],
    ]);
  });

  it('ends an operator where a comment starts', () => {
    expect(tokens('select 1 +-- comment\n2')).to.deep.equal([
      ['word', 'select'],
      ['number', '1'],
      ['operator', '+'],
      ['number', '2'],
    ]);
  });

  it('reads numbers with fractions and exponents', () => {
    expect(tokens('select 1.5e-3, .5, 10')).to.deep.equal([
      ['word', 'select'],
      ['number', '1.5e-3'],
      ['punct', ','],
      ['number', '.5'],
      ['punct', ','],
      ['number', '10'],
    ]);
  });

  it('matches parentheses and records their depth, resetting at semicolons', () => {
    const lexed = lexSql('select (a, (b)) ; (c');
    expect(lexed.close(1)).to.equal(7);
    expect(lexed.close(4)).to.equal(6);
    expect(lexed.depth(5)).to.equal(2);
    expect(lexed.close(9)).to.equal(-1);
    expect(lexed.depth(10)).to.equal(1);
  });

  it('runs unterminated literals and comments to the end instead of failing', () => {
    expect(tokens("select 'open")).to.deep.equal([
      ['word', 'select'],
      ['string', 'open'],
    ]);
    expect(tokens('select "open')).to.deep.equal([
      ['word', 'select'],
      ['quoted', 'open'],
    ]);
    expect(tokens('select 1 /* open /* nested */')).to.deep.equal([
      ['word', 'select'],
      ['number', '1'],
    ]);
    expect(tokens('select $x$ open')).to.deep.equal([
      ['word', 'select'],
      ['string', ' open'],
    ]);
  });

  it('answers past the end without throwing', () => {
    const lexed = lexSql('');
    expect(lexed.kind(3)).to.equal('end');
    expect(lexed.text(-1)).to.equal('');
    expect(lexed.isWord(0, 'select')).to.equal(false);
  });
});
