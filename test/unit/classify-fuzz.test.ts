import { expect } from 'chai';
import fs from 'fs';
import path from 'path';
import { performance } from 'perf_hooks';
import { SqlClassifier, type SqlClassification } from '../../lib/classify';

interface FixtureCase {
  sql: string;
  target: 'primary' | 'replica';
}

const fixtureDir = path.join(__dirname, '../../fixtures/sql');
const fixtures: FixtureCase[] = fs
  .readdirSync(fixtureDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .flatMap((file) => JSON.parse(fs.readFileSync(path.join(fixtureDir, file), 'utf8')) as FixtureCase[]);
const primaries = fixtures.filter((c) => c.target === 'primary');
const replicas = fixtures.filter((c) => c.target === 'replica');

// mulberry32: a tiny seeded PRNG, so a failure reproduces from its seed.
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters and fragments that stress the lexer's states.
const CHARS = `'"$-/*()[];,.:?\\Ee&Uu\n\t 0123456789abcxyzé\u0000\u00ff\ud800`;
const FRAGMENTS = [
  "'", '"', '$$', '$tag$', "E'", "U&'", "B'", '--', '/*', '*/', '(', ')', ';', '::', '$1', '?',
  ' for update ', ' insert into t ', ' delete from t ', ' select ', ' with x as (', ' into ', ' from ',
  ' explain ', ' analyze ', ' copy ', ' set local ', ' nextval(', ' for ', ' update ', ' share ',
];

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function mutate(random: () => number, sql: string): string {
  let text = sql;
  const edits = 1 + Math.floor(random() * 5);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (text.length + 1));
    switch (Math.floor(random() * 5)) {
      case 0:
        text = text.slice(0, at) + pick(random, [...CHARS]) + text.slice(at);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 8));
        break;
      case 2: {
        const length = Math.floor(random() * 20);
        text = text.slice(0, at) + text.slice(at, at + length) + text.slice(at);
        break;
      }
      case 3:
        text = text.slice(0, at) + pick(random, FRAGMENTS) + text.slice(at);
        break;
      default:
        text = random() < 0.5 ? text.toUpperCase() : text.toLowerCase();
        break;
    }
  }
  return text;
}

function randomText(random: () => number): string {
  const length = Math.floor(random() * 200);
  let text = '';
  for (let i = 0; i < length; i++) {
    text += random() < 0.5 ? pick(random, [...CHARS]) : String.fromCharCode(Math.floor(random() * 0x10000));
  }
  return text;
}

function isValid(result: SqlClassification): boolean {
  if (result.target !== 'primary' && result.target !== 'replica') return false;
  if (typeof result.reason !== 'string' || result.reason === '' || !Array.isArray(result.tables)) return false;
  if (result.tables.some((table) => typeof table !== 'string' || table === '')) return false;
  return new Set(result.tables).size === result.tables.length;
}

function expectValid(result: SqlClassification, sql: string): void {
  // chai only for the message: 20,000 assertions through chai would dominate the run.
  if (isValid(result)) return;
  const context = JSON.stringify(sql.slice(0, 200));
  expect(['primary', 'replica'], context).to.include(result.target);
  expect(result.reason, context).to.be.a('string').and.not.equal('');
  expect(result.tables, context).to.be.an('array');
  for (const table of result.tables) expect(table, context).to.be.a('string').and.not.equal('');
  expect(new Set(result.tables).size, context).to.equal(result.tables.length);
}

// Best of three, in milliseconds, so a GC pause does not decide a ratio.
function timeOf(run: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

describe('classifySql under fuzzing', function () {
  // Tens of thousands of classifications and megabyte inputs: more than mocha's default 2 s.
  this.timeout(60_000);
  const classifier = new SqlClassifier({ cacheSize: 0 });

  it('never throws and always answers validly on 20,000 mutated fixtures and random texts', () => {
    const random = prng(0x5eed);
    for (let i = 0; i < 20_000; i++) {
      const sql = random() < 0.85 ? mutate(random, pick(random, fixtures).sql) : randomText(random);
      let result: SqlClassification;
      try {
        result = classifier.classify(sql);
      } catch (error) {
        expect.fail(`iteration ${i} threw ${String(error)} on ${JSON.stringify(sql.slice(0, 200))}`);
      }
      expectValid(result, sql);
    }
  });

  it('never moves a primary fixture to a replica by comments, whitespace, parentheses, semicolons or case', () => {
    const wrappers: Array<[string, (sql: string) => string]> = [
      ['leading block comment', (sql) => `/* replica please */ ${sql}`],
      ['leading line comment', (sql) => `-- select\n${sql}`],
      ['nested comment', (sql) => `/* a /* select */ b */${sql}`],
      ['whitespace', (sql) => `\n\t  ${sql}  \n`],
      ['trailing semicolons', (sql) => `${sql};;`],
      ['trailing comment', (sql) => `${sql} -- for read only`],
      ['leading parentheses', (sql) => `((${sql}))`],
      ['upper case', (sql) => sql.toUpperCase()],
      ['lower case', (sql) => sql.toLowerCase()],
      ['comments between tokens', (sql) => sql.replace(/ /g, ' /**/ ')],
      // Tabs, not newlines: a newline would end a `--` comment and expose its words.
      ['tabs between tokens', (sql) => sql.replace(/ /g, '\t\t')],
      ['a read before it', (sql) => `select 1; ${sql}`],
    ];
    for (const c of primaries) {
      for (const [name, wrap] of wrappers) {
        const sql = wrap(c.sql);
        expect(classifier.classify(sql).target, `${name}: ${sql}`).to.equal('primary');
      }
    }
  });

  it('keeps replica fixtures on a replica when only comments and whitespace change', () => {
    const wrappers: Array<(sql: string) => string> = [
      (sql) => `/* tag */ ${sql}`,
      (sql) => `-- tag\n${sql}`,
      (sql) => `\n  ${sql}\n`,
      (sql) => `${sql}; -- trailing`,
    ];
    for (const c of replicas) {
      for (const wrap of wrappers) {
        const sql = wrap(c.sql);
        expect(classifier.classify(sql).target, sql).to.equal('replica');
      }
    }
  });

  describe('pathological inputs', () => {
    const inputs: Array<[string, string]> = [
      ['100 kB of nested /*', '/*'.repeat(50_000)],
      ['100 kB of (', '('.repeat(100_000)],
      ['100 kB of )', ')'.repeat(100_000)],
      ['1 MB of quotes', "'".repeat(1_000_000)],
      ['1 MB of double quotes', '"'.repeat(1_000_000)],
      ['100k $$', '$$'.repeat(100_000)],
      ['100k $a$', '$a$'.repeat(100_000)],
      ['a long dollar tag', `select $${'t'.repeat(50_000)}$ body ${'$'.repeat(50_000)}`],
      ['deeply nested select', `${'('.repeat(50_000)}select 1${')'.repeat(50_000)}`],
      ['deeply nested calls', `select ${'lower('.repeat(30_000)}'x'${')'.repeat(30_000)}`],
      ['deeply nested extract', `select ${'extract(year from '.repeat(20_000)}now()${')'.repeat(20_000)}`],
      ['a 1 MB identifier', `select ${'a'.repeat(1_000_000)} from t`],
      ['100k statements', 'select 1;'.repeat(100_000)],
      ['a long FROM list', `select * from ${Array.from({ length: 20_000 }, (_, i) => `t${i}`).join(', ')}`],
      ['unterminated E string of backslashes', `select E'${'\\'.repeat(100_001)}`],
      ['1 MB of random operators', '+-*/<>=~!@#%^&|`?'.repeat(60_000)],
    ];
    for (const [name, sql] of inputs) {
      it(`classifies ${name} without throwing`, () => {
        expectValid(classifier.classify(sql), sql);
      });
    }

    it('classifies deeply nested read-only parentheses as a replica read', () => {
      expect(classifier.classify(`${'('.repeat(50_000)}select 1${')'.repeat(50_000)}`).target).to.equal('replica');
    });

    // A smoke check for quadratic behaviour, not a speed target: 4x the input must
    // take far less than 16x the time (a quadratic scan would take 16x).
    const generators: Array<[string, (n: number) => string]> = [
      ['nested comments', (n) => '/*'.repeat(n)],
      ['open parentheses', (n) => '('.repeat(n)],
      ['quotes', (n) => "'".repeat(n)],
      ['dollar quotes', (n) => '$$'.repeat(n)],
      ['comma lists', (n) => `select * from ${'t, '.repeat(n)}t`],
      ['nested extract', (n) => `select ${'extract(year from '.repeat(n)}now()`],
      ['statements', (n) => 'select 1;'.repeat(n)],
      ['FROMs in one paren', (n) => `(${'x from '.repeat(n)}`],
    ];
    for (const [name, generate] of generators) {
      it(`scales linearly on ${name}`, () => {
        const small = generate(20_000);
        const large = generate(80_000);
        const smallMs = timeOf(() => classifier.classify(small));
        const largeMs = timeOf(() => classifier.classify(large));
        expect(largeMs, `${smallMs.toFixed(1)} ms → ${largeMs.toFixed(1)} ms`).to.be.below(16 * Math.max(smallMs, 2));
      });
    }
  });
});
