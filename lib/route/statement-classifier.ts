import type { ClassifyOptions, SqlClassification, SqlClassifier } from '../classify';
import type { Access } from './router';
import type { Statement } from './statement';

/** Builder methods that only read (aggregates compile to `select`). */
const READ_METHODS = new Set(['select', 'first', 'pluck']);

/** The verdict on one statement: read or write, why, and which relations. */
export interface StatementClass {
  access: Access;
  reason: string;
  tables: readonly string[];
}

/**
 * Classifies a described statement from the builder's facts first (method, lock, schema
 * builder) and its compiled SQL second: a `select` builder whose SQL calls `nextval()` or
 * holds a data-modifying CTE is still a write.
 *
 * @example
 * const classify = statementClassifier(new SqlClassifier(), () => ({}));
 * classify({ kind: 'query', method: 'select', lock: 'forUpdate', sql: '…', hint: undefined, table: 'users' })
 * // { access: 'write', reason: 'row lock forUpdate', tables: ['users'] }
 */
export function statementClassifier(
  classifier: SqlClassifier,
  options: () => ClassifyOptions | undefined,
  /** Wraps each SQL classification (the catalog counts what it decided). */
  observe: (classify: () => SqlClassification) => SqlClassification = (classify) => classify(),
): (s: Statement) => StatementClass {
  return (statement) => {
    if (statement.kind === 'schema') {
      return { access: 'write', reason: 'schema builder', tables: classifier.classify(statement.sql, options()).tables };
    }
    const sqlClass = observe(() => classifier.classify(statement.sql, options()));
    if (statement.kind === 'raw') {
      return { access: sqlClass.target === 'replica' ? 'read' : 'write', reason: sqlClass.reason, tables: sqlClass.tables };
    }
    if (!READ_METHODS.has(statement.method)) {
      const reason = statement.method === 'columnInfo' ? 'columnInfo (kept on the primary)' : `write (${statement.method})`;
      return { access: 'write', reason, tables: sqlClass.tables };
    }
    if (statement.lock !== undefined) return { access: 'write', reason: `row lock ${statement.lock}`, tables: sqlClass.tables };
    if (sqlClass.target !== 'replica') return { access: 'write', reason: sqlClass.reason, tables: sqlClass.tables };
    return { access: 'read', reason: `read (${statement.method})`, tables: sqlClass.tables };
  };
}
