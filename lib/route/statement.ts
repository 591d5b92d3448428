/** A per-query routing hint, from `.queryContext({ splitKnex: { target } })`. */
export type RouteTarget = 'primary' | 'replica';

/**
 * What the router knows about one statement before it runs: taken from the builder
 * (method, lock) and from its compiled SQL.
 *
 * @example
 * // db('users').where({ id: 1 }).forUpdate() is described as
 * // { kind: 'query', method: 'select', lock: 'forUpdate', sql: 'select * from "users" where "id" = ? for update', ... }
 */
export interface Statement {
  /** `query` for query builders, `raw` for `db.raw`, `schema` for the schema builder. */
  kind: 'query' | 'raw' | 'schema';
  /** knex's method: `select`, `first`, `pluck`, `insert`, `update`, `del`, `truncate`, `columnInfo`, `raw`, … */
  method: string;
  /** The compiled SQL (several statements of a schema builder joined with `;\n`). */
  sql: string;
  /** The row-lock mode of a query builder (`forUpdate`, `forShare`, …), if any. */
  lock: string | undefined;
  /** The `splitKnex.target` hint from the query context, if any. */
  hint: RouteTarget | undefined;
  /** The table a query builder names with `db('t')` / `.from('t')`, if it is a plain name. */
  table: string | undefined;
  /** `.maxStaleness(ms)`: how stale (in ms) this read may be; only replicas within it take it. */
  maxStalenessMs?: number;
}
