import type { SqlTokens } from './sql-tokens';

// First word of a statement → why it must run on the primary. SELECT, WITH,
// VALUES, TABLE, SHOW, EXPLAIN, COPY and SET are judged elsewhere.
const PRIMARY_STATEMENTS: ReadonlyMap<string, string> = new Map([
  ['insert', 'write statement INSERT'],
  ['update', 'write statement UPDATE'],
  ['delete', 'write statement DELETE'],
  ['merge', 'write statement MERGE'],
  ['truncate', 'write statement TRUNCATE'],
  ['create', 'DDL CREATE'],
  ['alter', 'DDL ALTER'],
  ['drop', 'DDL DROP'],
  ['comment', 'DDL COMMENT'],
  ['security', 'DDL SECURITY LABEL'],
  ['import', 'DDL IMPORT FOREIGN SCHEMA'],
  ['reassign', 'DDL REASSIGN OWNED'],
  ['grant', 'privileges GRANT'],
  ['revoke', 'privileges REVOKE'],
  ['vacuum', 'maintenance VACUUM'],
  ['analyze', 'maintenance ANALYZE'],
  ['analyse', 'maintenance ANALYZE'],
  ['cluster', 'maintenance CLUSTER'],
  ['reindex', 'maintenance REINDEX'],
  ['refresh', 'maintenance REFRESH MATERIALIZED VIEW'],
  ['checkpoint', 'maintenance CHECKPOINT'],
  ['load', 'server state LOAD'],
  ['do', 'procedural code DO'],
  ['call', 'procedure CALL'],
  ['begin', 'transaction control BEGIN'],
  ['start', 'transaction control START TRANSACTION'],
  ['commit', 'transaction control COMMIT'],
  ['end', 'transaction control END'],
  ['rollback', 'transaction control ROLLBACK'],
  ['abort', 'transaction control ABORT'],
  ['savepoint', 'transaction control SAVEPOINT'],
  ['release', 'transaction control RELEASE'],
  ['reset', 'session state RESET'],
  ['discard', 'session state DISCARD'],
  ['prepare', 'session state PREPARE'],
  ['execute', 'session state EXECUTE'],
  ['deallocate', 'session state DEALLOCATE'],
  ['listen', 'notification LISTEN'],
  ['unlisten', 'notification UNLISTEN'],
  ['notify', 'notification NOTIFY'],
  ['declare', 'cursor DECLARE'],
  ['fetch', 'cursor FETCH'],
  ['move', 'cursor MOVE'],
  ['close', 'cursor CLOSE'],
  ['lock', 'table lock LOCK'],
]);

/**
 * Why the statement whose first word is at `i` must run on the primary, or
 * undefined when its first word is not one of PostgreSQL's statement keywords
 * known to need the primary. Refines a few: `CREATE TEMP ...`,
 * `ALTER SYSTEM`, `PREPARE TRANSACTION`, `COMMIT PREPARED`.
 * Internal to the classifier.
 *
 * @example
 * primaryStatementReason(lexSql('create temp table t (a int)'), 0); // 'temporary object CREATE TEMP'
 * primaryStatementReason(lexSql('vacuum users'), 0);                // 'maintenance VACUUM'
 */
export function primaryStatementReason(tokens: SqlTokens, i: number): string | undefined {
  const word = tokens.text(i);
  const reason = PRIMARY_STATEMENTS.get(word);
  if (reason === undefined) return undefined;
  switch (word) {
    case 'create': {
      let j = i + 1;
      if (tokens.isWord(j, 'or') && tokens.isWord(j + 1, 'replace')) j += 2;
      if (tokens.isWord(j, 'global') || tokens.isWord(j, 'local')) j++;
      if (tokens.isWord(j, 'temp') || tokens.isWord(j, 'temporary')) return 'temporary object CREATE TEMP';
      return reason;
    }
    case 'alter':
      return tokens.isWord(i + 1, 'system') ? 'server configuration ALTER SYSTEM' : reason;
    case 'prepare':
      return tokens.isWord(i + 1, 'transaction') ? 'transaction control PREPARE TRANSACTION' : reason;
    case 'commit':
    case 'rollback':
      return tokens.isWord(i + 1, 'prepared') ? `${reason} PREPARED` : reason;
    default:
      return reason;
  }
}
