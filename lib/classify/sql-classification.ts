/**
 * Where a piece of SQL text may run, and why.
 *
 * `target` is `'replica'` only when the classifier is sure the text is read-only
 * and leaves no session state behind; anything else, unknown included, is
 * `'primary'`. `reason` is meant for people (route events, debug logs), not for
 * parsing. `tables` lists the relations the text reads or writes, as written:
 * schema-qualified when it is, unquoted names lower-cased, quoted names exact,
 * without CTE names, aliases or functions called in FROM.
 *
 * Results may be shared between calls through the classifier's memo: they are
 * frozen, copy `tables` before changing it.
 *
 * @example
 * const result: SqlClassification = classifySql('select * from "users" where id = $1');
 * // { target: 'replica', reason: 'read-only SELECT', tables: ['users'] }
 */
export interface SqlClassification {
  readonly target: 'primary' | 'replica';
  readonly reason: string;
  readonly tables: string[];
}

/**
 * Volatility of a function as PostgreSQL's `pg_proc.provolatile` reports it.
 *
 * @example
 * const volatility: FunctionVolatility = 'stable';
 */
export type FunctionVolatility = 'immutable' | 'stable' | 'volatile';

/**
 * What the database knows and the SQL text does not: function volatility,
 * unlogged or temporary relations, and sequences. Build one from `pg_proc` / `pg_class` on the
 * primary; the classifier only calls it, and treats a throwing catalog as "send
 * to the primary".
 *
 * Give it a `version` and bump it whenever its answers change: results are then
 * memoized per version. A catalog without a `version` is asked on every call.
 *
 * @example
 * const catalog: FunctionCatalog = {
 *   version: 1,
 *   functionVolatility: (name, schema) =>
 *     schema === 'app' && name === 'slugify' ? 'immutable' : undefined,
 *   isUnloggedRelation: (name) => name === 'session_cache',
 * };
 * classifySql('select app.slugify(title) from posts', { catalog }).target; // 'replica'
 */
export interface FunctionCatalog {
  /**
   * Volatility by lower-case name; key both 'schema.fn' and, for functions visible
   * on the search path, bare 'fn' resolved as PostgreSQL would. `undefined` when
   * the function is unknown.
   */
  functionVolatility(name: string, schema?: string): FunctionVolatility | undefined;
  /** True when the relation (as written, optionally schema-qualified) is unlogged or temporary. */
  isUnloggedRelation(name: string, schema?: string): boolean;
  /**
   * True when the relation (as written, optionally schema-qualified) is a sequence, or a view
   * reaching one: a standby's sequence state is ahead of the primary's, so reads of it go to
   * the primary. Optional: without it, names ending in `_seq` are taken for sequences.
   */
  isSequence?(name: string, schema?: string): boolean;
  /** Changes whenever the answers above may change; enables memoization of catalog-dependent results. */
  readonly version?: number;
}

/**
 * Per-call classification options.
 *
 * @example
 * classifySql('select app.slugify($1)', { readOnlyFunctions: ['app.slugify'] });
 * classifySql('set local statement_timeout = 500', { inTransaction: true }); // replica-safe
 */
export interface ClassifyOptions {
  /**
   * User functions known to be read-only (names, optionally schema-qualified);
   * queries calling them may stay on a replica. A bare name also matches the
   * schema-qualified call (`slugify` matches `app.slugify(...)`), but a qualified
   * name does not match an unqualified call, whose schema depends on search_path.
   */
  readOnlyFunctions?: Iterable<string>;
  /** Function volatility and unlogged relations from the database; see {@link FunctionCatalog}. */
  catalog?: FunctionCatalog;
  /**
   * True when the text runs inside a transaction already pinned to one node:
   * `SET LOCAL` then ends with the transaction and is no reason to go to the
   * primary by itself. Outside a transaction `SET LOCAL` still goes to the primary.
   */
  inTransaction?: boolean;
}
