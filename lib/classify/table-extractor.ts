import type { SqlTokens } from './sql-tokens';
import { isCallParen, isUpdateStatementAt, readQualifiedName, type QualifiedName } from './token-patterns';

/**
 * A relation named by a statement. Internal.
 *
 * @example
 * const relation: RelationName = { name: 'settings', schema: 'app', display: 'app.settings' };
 */
export type RelationName = Omit<QualifiedName, 'next'>;

// Words that end a FROM list at their paren depth: a `,` after them no longer
// separates relations.
const END_OF_FROM_LIST: ReadonlySet<string> = new Set([
  'where', 'group', 'having', 'window', 'order', 'limit', 'offset', 'fetch', 'for', 'union',
  'intersect', 'except', 'returning', 'set', 'values', 'select', 'when', 'then',
]);

// After these, a `(` opens a subquery rather than a parenthesized join.
const QUERY_STARTS: ReadonlySet<string> = new Set(['select', 'values', 'with', 'table']);

// What the next name is: nothing special, a FROM/JOIN item (a name followed by
// `(` is then a function), a USING item (same, but `(` never holds a join), or
// a target (INSERT INTO t (cols), UPDATE t, SELECT INTO t).
type Expect = 'none' | 'from' | 'using' | 'target';

/**
 * Collects the relations a query or DML statement in `[start, end)` reads or
 * writes: FROM and JOIN items (comma lists and parenthesized joins included),
 * INSERT INTO / MERGE INTO / SELECT INTO targets, UPDATE targets, DELETE FROM
 * and USING lists, `TABLE x`, at every paren depth. Leaves out CTE names,
 * aliases, functions in FROM (`generate_series(...)`) and subqueries, and the
 * FROM inside `extract(... from ...)`, `substring(... from ...)` or
 * `IS DISTINCT FROM`. Internal to the classifier.
 *
 * @example
 * const tokens = lexSql('with x as (select 1) select * from x, users u join app.posts p on true');
 * const out: RelationName[] = [];
 * extractTables(tokens, 0, tokens.length, out);
 * out.map((table) => table.display); // ['users', 'app.posts']
 */
export function extractTables(
  tokens: SqlTokens,
  start: number,
  end: number,
  out: RelationName[],
): void {
  // CTE names are defined before any use (a recursive CTE names itself before
  // its body), so collecting them on the way is enough.
  let cteNames: Set<string> | undefined;
  // Per paren depth: whether a `,` there separates FROM items, and whether the
  // enclosing `(` is a function's argument list (`extract(year from x)`).
  const fromList: boolean[] = [];
  const callParen: boolean[] = [];
  let expect: Expect = 'none';

  for (let i = start; i < end; i++) {
    const kind = tokens.kinds[i];
    const depth = tokens.depth(i);

    if (kind === 'punct') {
      const punct = tokens.text(i);
      if (punct === '(') {
        fromList[depth + 1] = false;
        callParen[depth + 1] = isCallParen(tokens, i, start);
        // `from (a join b on ...)`: keep looking for relations inside, but not
        // in `from (select ...)`, whose own FROM will be found on the way.
        const inner = tokens.kinds[i + 1] === 'word' ? tokens.text(i + 1) : '';
        const nested = tokens.isName(i + 1) || tokens.isPunct(i + 1, '(');
        if (expect === 'from' && nested && !QUERY_STARTS.has(inner)) {
          fromList[depth + 1] = true;
        } else {
          expect = 'none';
        }
      } else if (punct === ',' && fromList[depth] === true) {
        expect = 'from';
      } else {
        expect = 'none';
      }
      continue;
    }
    if (kind !== 'word' && kind !== 'quoted') {
      expect = 'none';
      continue;
    }

    if (isCteName(tokens, i)) {
      (cteNames ??= new Set()).add(tokens.text(i));
      continue;
    }

    if (expect !== 'none') {
      const relation = relationAt(tokens, i, expect);
      expect = 'none';
      if (relation !== undefined) {
        if (relation.name !== '' && !(relation.schema === undefined && cteNames?.has(relation.name) === true)) {
          out.push({ name: relation.name, schema: relation.schema, display: relation.display });
        }
        i = relation.next - 1;
        continue;
      }
    }
    if (kind === 'quoted') continue;

    const word = tokens.text(i);
    switch (word) {
      case 'from':
        if (tokens.isWord(i - 1, 'distinct')) break; // IS [NOT] DISTINCT FROM
        if (callParen[depth] === true) break; // extract(... from ...), substring, trim
        expect = 'from';
        fromList[depth] = true;
        break;
      case 'join':
        expect = 'from';
        break;
      case 'using':
        // DELETE ... USING a, b (the FROM before it started the list) and MERGE ...
        // USING src; `join ... using (id)` is followed by `(` and yields nothing.
        expect = 'using';
        break;
      case 'into':
      case 'table':
        expect = 'target';
        break;
      case 'update':
        if (isUpdateStatementAt(tokens, i)) expect = 'target';
        break;
      default:
        if (END_OF_FROM_LIST.has(word)) fromList[depth] = false;
        break;
    }
  }
}

/**
 * The relation named at `i`, skipping ONLY / LATERAL / TEMP / TABLE noise words.
 * `name` is empty when the item is not a relation (a function call in FROM, a
 * `ROWS FROM (...)`), in which case `next` says where to resume.
 */
function relationAt(tokens: SqlTokens, i: number, expect: Expect): QualifiedName | undefined {
  let j = i;
  while (tokens.kinds[j] === 'word') {
    const word = tokens.text(j);
    if (word === 'only' || word === 'lateral' || (expect === 'target' && isTargetNoise(word))) j++;
    else break;
  }
  if (tokens.isWord(j, 'rows') && tokens.isWord(j + 1, 'from')) return undefined;
  const name = readQualifiedName(tokens, j);
  if (name === undefined) return undefined;
  if ((expect === 'from' || expect === 'using') && tokens.isPunct(name.next, '(')) {
    // A function in FROM, e.g. generate_series(1, 3): resume at its `(`.
    return { name: '', schema: undefined, display: '', next: name.next };
  }
  return name;
}

// SELECT ... INTO [TEMP | TEMPORARY | UNLOGGED] [TABLE] name
function isTargetNoise(word: string): boolean {
  return word === 'temp' || word === 'temporary' || word === 'unlogged' || word === 'table';
}

/**
 * True when the name at `i` is defined by WITH: after WITH, WITH RECURSIVE or a
 * comma, followed by `AS (`, `AS [NOT] MATERIALIZED (`, or a column list and then
 * one of those.
 */
function isCteName(tokens: SqlTokens, i: number): boolean {
  const before = i - 1;
  if (!(tokens.isWord(before, 'with') || tokens.isWord(before, 'recursive') || tokens.isPunct(before, ','))) {
    return false;
  }
  let j = i + 1;
  if (tokens.isPunct(j, '(')) {
    const close = tokens.close(j);
    if (close < 0) return false;
    j = close + 1;
  }
  if (!tokens.isWord(j, 'as')) return false;
  j++;
  if (tokens.isWord(j, 'not')) j++;
  if (tokens.isWord(j, 'materialized')) j++;
  return tokens.isPunct(j, '(');
}
