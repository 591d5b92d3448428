import type { SqlTokens } from './sql-tokens';
import { extractTables, type RelationName } from './table-extractor';
import { readQualifiedName } from './token-patterns';

// Object kinds whose name is a relation: `create table x`, `drop view y`...
const RELATION_KINDS: ReadonlySet<string> = new Set(['table', 'view', 'materialized', 'foreign']);

// Object kinds GRANT/REVOKE ... ON may name that are not relations.
const NON_RELATION_GRANTS: ReadonlySet<string> = new Set([
  'sequence', 'database', 'domain', 'foreign', 'function', 'procedure', 'routine', 'language',
  'large', 'schema', 'tablespace', 'type', 'all', 'parameter',
]);

/**
 * Relations named by a DDL or maintenance statement whose first word is at `i`,
 * where that is easy to tell: CREATE / ALTER / DROP of tables, views,
 * materialized views and foreign tables, CREATE INDEX / TRIGGER / POLICY ... ON t,
 * TRUNCATE, LOCK, VACUUM, ANALYZE, CLUSTER, REINDEX TABLE, REFRESH MATERIALIZED
 * VIEW, COMMENT ON TABLE / COLUMN, GRANT / REVOKE ON [TABLE], and the query of
 * PREPARE ... AS and DECLARE ... FOR. Other statements
 * name none. Internal to the classifier.
 *
 * @example
 * const out: RelationName[] = [];
 * utilityTables(lexSql('drop table if exists a, app.b cascade'), 0, 9, out); // a, app.b
 */
export function utilityTables(tokens: SqlTokens, i: number, end: number, out: RelationName[]): void {
  let j = i + 1;
  switch (tokens.text(i)) {
    case 'truncate':
    case 'lock':
      if (tokens.isWord(j, 'table')) j++;
      readRelationList(tokens, j, end, out);
      return;
    case 'vacuum':
    case 'analyze':
    case 'analyse':
    case 'cluster':
      j = skipOptions(tokens, j);
      while (isMaintenanceFlag(tokens, j)) j++;
      readRelationList(tokens, j, end, out);
      return;
    case 'reindex':
      j = skipOptions(tokens, j);
      if (tokens.isWord(j, 'table')) {
        j++;
        if (tokens.isWord(j, 'concurrently')) j++;
        readRelationList(tokens, j, end, out);
      }
      return;
    case 'refresh':
      j += 2; // materialized view
      if (tokens.isWord(j, 'concurrently')) j++;
      readRelationList(tokens, j, end, out);
      return;
    case 'create':
      createTables(tokens, j, end, out);
      return;
    case 'alter':
    case 'drop':
      j = skipRelationKind(tokens, j);
      if (j < 0) return;
      if (tokens.isWord(j, 'if')) j += tokens.isWord(j + 1, 'not') ? 3 : 2; // if [not] exists
      readRelationList(tokens, j, end, out);
      return;
    case 'comment':
      commentTables(tokens, j, out);
      return;
    case 'grant':
    case 'revoke':
      grantTables(tokens, j, end, out);
      return;
    case 'prepare':
      // PREPARE name [(types)] AS statement
      innerStatementTables(tokens, j, end, 'as', out);
      return;
    case 'declare':
      // DECLARE name [options] CURSOR [WITH HOLD] FOR query
      innerStatementTables(tokens, j, end, 'for', out);
      return;
    default:
      return;
  }
}

// The relations of the statement after the first `keyword` at the outer depth.
function innerStatementTables(
  tokens: SqlTokens,
  from: number,
  end: number,
  keyword: string,
  out: RelationName[],
): void {
  const depth = tokens.depth(from);
  for (let k = from; k < end; k++) {
    if (tokens.depth(k) === depth && tokens.isWord(k, keyword)) {
      extractTables(tokens, k + 1, end, out);
      return;
    }
  }
}

function createTables(tokens: SqlTokens, from: number, end: number, out: RelationName[]): void {
  let j = from;
  while (tokens.kinds[j] === 'word' && isCreateModifier(tokens.text(j))) j++;
  const kind = tokens.text(j);
  if (kind === 'index' || kind === 'trigger' || kind === 'policy') {
    // ... ON [ONLY] table: the first ON at the statement's own depth.
    const depth = tokens.depth(j);
    for (let k = j + 1; k < end; k++) {
      if (tokens.depth(k) === depth && tokens.isWord(k, 'on')) {
        readRelationList(tokens, k + 1, end, out, 1);
        return;
      }
    }
    return;
  }
  j = skipRelationKind(tokens, j);
  if (j < 0) return;
  if (tokens.isWord(j, 'if')) j += 3; // if not exists
  readRelationList(tokens, j, end, out, 1);
}

function isCreateModifier(word: string): boolean {
  switch (word) {
    case 'or': case 'replace': case 'global': case 'local': case 'temp': case 'temporary':
    case 'unlogged': case 'recursive': case 'unique':
      return true;
    default:
      return false;
  }
}

// table | view | materialized view | foreign table → index after it, or -1.
function skipRelationKind(tokens: SqlTokens, j: number): number {
  if (tokens.kinds[j] !== 'word' || !RELATION_KINDS.has(tokens.text(j))) return -1;
  const kind = tokens.text(j);
  return kind === 'materialized' || kind === 'foreign' ? j + 2 : j + 1;
}

// comment on table t | view v | materialized view m | column [schema.]t.c is '...'
function commentTables(tokens: SqlTokens, from: number, out: RelationName[]): void {
  if (!tokens.isWord(from, 'on')) return;
  let j = from + 1;
  if (tokens.isWord(j, 'column')) {
    const column = readQualifiedName(tokens, j + 1);
    if (column === undefined || column.schema === undefined) return;
    // The relation is the column's name without its last part: table, or schema.table.
    const parts = (column.next - j) / 2;
    const schema = parts === 3 ? tokens.text(j + 1) : undefined;
    const display = schema === undefined ? column.schema : `${schema}.${column.schema}`;
    out.push({ name: column.schema, schema, display });
    return;
  }
  j = skipRelationKind(tokens, j);
  if (j >= 0) readRelationList(tokens, j, j + 3, out, 1);
}

// grant select, insert on [table] a, b to role
function grantTables(tokens: SqlTokens, from: number, end: number, out: RelationName[]): void {
  for (let j = from; j < end; j++) {
    if (!tokens.isWord(j, 'on')) continue;
    let k = j + 1;
    if (tokens.isWord(k, 'table')) k++;
    else if (tokens.kinds[k] === 'word' && NON_RELATION_GRANTS.has(tokens.text(k))) return;
    readRelationList(tokens, k, end, out);
    return;
  }
}

// VACUUM FULL FREEZE VERBOSE ANALYZE, ANALYZE VERBOSE, CLUSTER VERBOSE
function isMaintenanceFlag(tokens: SqlTokens, j: number): boolean {
  if (tokens.kinds[j] !== 'word') return false;
  switch (tokens.text(j)) {
    case 'full': case 'freeze': case 'verbose': case 'analyze': case 'analyse':
      return true;
    default:
      return false;
  }
}

// `(option, ...)` right after the statement keyword.
function skipOptions(tokens: SqlTokens, j: number): number {
  if (!tokens.isPunct(j, '(')) return j;
  const close = tokens.close(j);
  return close < 0 ? j : close + 1;
}

/**
 * `[ONLY] name [*] [(columns)] [, ...]` from `from`, at most `limit` names.
 */
function readRelationList(
  tokens: SqlTokens,
  from: number,
  end: number,
  out: RelationName[],
  limit = Number.POSITIVE_INFINITY,
): void {
  let j = from;
  for (let count = 0; count < limit && j < end; count++) {
    if (tokens.isWord(j, 'only')) j++;
    const name = readQualifiedName(tokens, j);
    if (name === undefined) return;
    out.push({ name: name.name, schema: name.schema, display: name.display });
    j = name.next;
    if (tokens.kinds[j] === 'operator' && tokens.text(j) === '*') j++;
    if (tokens.isPunct(j, '(')) {
      const close = tokens.close(j);
      if (close < 0) return;
      j = close + 1;
    }
    if (!tokens.isPunct(j, ',')) return;
    j++;
  }
}
