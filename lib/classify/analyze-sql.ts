import { analyzeStatement, type StatementAnalysis } from './analyze-statement';
import { lexSql } from './sql-lexer';

/**
 * The option-independent analysis of a whole SQL text: one entry per non-empty
 * statement (separated by `;`), and every relation named, deduplicated, in order
 * of first appearance. Internal to the classifier.
 *
 * @example
 * const analysis: SqlAnalysis = analyzeSql('select 1; ; select * from users');
 * analysis.statements.length; // 2
 * analysis.tables;            // ['users']
 */
export interface SqlAnalysis {
  statements: StatementAnalysis[];
  tables: string[];
}

/**
 * Lexes `sql` once and analyzes each statement. Never throws; linear in the
 * length of the text.
 *
 * @example
 * analyzeSql('insert into users (email) values ($1)').statements[0]?.primary; // 'write statement INSERT'
 */
export function analyzeSql(sql: string): SqlAnalysis {
  const tokens = lexSql(sql);
  const statements: StatementAnalysis[] = [];
  let start = 0;
  for (let i = 0; i <= tokens.length; i++) {
    if (i < tokens.length && !tokens.isPunct(i, ';')) continue;
    // Empty statements (`;;`, a trailing `;`, comments only) are ignored.
    if (i > start) statements.push(analyzeStatement(tokens, start, i));
    start = i + 1;
  }

  const tables: string[] = [];
  // A Set only pays off for long lists; most texts name one to three tables.
  let seen: Set<string> | undefined;
  for (const statement of statements) {
    for (const table of statement.tables) {
      const name = table.display;
      if (seen === undefined && tables.length >= 16) seen = new Set(tables);
      if (seen !== undefined ? seen.has(name) : tables.includes(name)) continue;
      seen?.add(name);
      tables.push(name);
    }
  }
  return { statements, tables };
}
