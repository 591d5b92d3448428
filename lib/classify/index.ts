/**
 * SQL-text classification: which statements may run on a replica.
 *
 * @example
 * import { classifySql, SqlClassifier } from './classify';
 * classifySql('select * from users for update').reason; // 'row lock FOR UPDATE'
 */
export { classifySql } from './classify-sql';
export { isDdl } from './is-ddl';
export { isTempRelationMiss } from './temp-relation-miss';
export { SqlClassifier, type SqlClassifierOptions } from './sql-classifier';
export type {
  ClassifyOptions,
  FunctionCatalog,
  FunctionVolatility,
  SqlClassification,
} from './sql-classification';
