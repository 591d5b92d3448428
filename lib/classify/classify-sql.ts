import type { ClassifyOptions, SqlClassification } from './sql-classification';
import { SqlClassifier } from './sql-classifier';

// Shared by every classifySql() call; default options (1000 memoized texts).
const defaultClassifier = new SqlClassifier();

/**
 * Classifies SQL text with a module-wide {@link SqlClassifier} (default options).
 * Never throws: anything it cannot vouch for goes to the primary.
 *
 * @example
 * classifySql('select "id", "name" from "users" where "id" = ? limit ?');
 * // { target: 'replica', reason: 'read-only SELECT', tables: ['users'] }
 * classifySql('with d as (delete from "sessions" returning *) select count(*) from d');
 * // { target: 'primary', reason: 'data-modifying CTE (DELETE)', tables: ['sessions'] }
 */
export function classifySql(sql: string, options?: ClassifyOptions): SqlClassification {
  return defaultClassifier.classify(sql, options);
}
