import type { PooledConnection } from '../knex/knex-internals';

// Schemas that never hold user functions: the per-session temporary and TOAST schemas.
// pg_catalog and information_schema are the built-ins the classifier knows by name.
const NOT_USER_SCHEMA = "n.nspname <> 'information_schema' and n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

/**
 * The session's role and effective search_path. `current_schemas(true)` lists the schemas
 * unqualified names are looked up in, in order: `$user` expanded, schemas that do not
 * exist left out, and the implicit `pg_catalog` (and `pg_temp_N`, if the session has one)
 * where PostgreSQL puts them. It runs on a pooled connection, so knex's `searchPath` and
 * role/database settings (`ALTER ROLE … SET search_path`) are applied already.
 *
 * It also turns JIT off for the rest of the round trip (the three queries run in one
 * implicit transaction; the setting ends with it): the planner's estimate for the
 * recursive query is far above `jit_above_cost`, and compiling it costs ~25 ms for a
 * query that runs in a few.
 */
export const SEARCH_PATH_SQL = `select current_user::text as role, current_schemas(true)::text[] as schemas,
  case when current_setting('jit', true) is not null then set_config('jit', 'off', true) end as jit`;

/**
 * Every function of a user-visible schema with its input argument types and volatility
 * (`i`, `s`, `v`), one row per overload. From `pg_catalog`, only the functions whose name a
 * user function also has: an unqualified call of that name may resolve to either.
 */
export const FUNCTIONS_SQL = `select n.nspname::text as schema, p.proname::text as name, p.proargtypes::text as args, p.provolatile::text as volatility
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where ${NOT_USER_SCHEMA} and (n.nspname <> 'pg_catalog' or p.proname in (
   select p.proname from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname <> 'pg_catalog' and ${NOT_USER_SCHEMA}))`;

/**
 * Every relation a hot standby refuses to read ("cannot access temporary or unlogged
 * relations during recovery"): unlogged and temporary tables, sequences and views, plus
 * what reading them reaches — partitioned and inheritance parents of such a table and
 * views over it, transitively. (A materialized view stores its own rows: it is not
 * reached through its query.)
 */
export const UNLOGGED_RELATIONS_SQL = `with recursive tainted(oid) as (
  select c.oid from pg_catalog.pg_class c
   where c.relpersistence in ('u', 't') and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
  union
  select e.parent from tainted t cross join lateral (
    select i.inhparent as parent from pg_catalog.pg_inherits i where i.inhrelid = t.oid
    union all
    select r.ev_class from pg_catalog.pg_depend d
      join pg_catalog.pg_rewrite r on r.oid = d.objid
      join pg_catalog.pg_class v on v.oid = r.ev_class and v.relkind = 'v'
     where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = t.oid
       and d.classid = 'pg_catalog.pg_rewrite'::regclass and r.ev_class <> t.oid
  ) e
)
select n.nspname::text as schema, c.relname::text as name, c.relpersistence::text as persistence
  from tainted t join pg_catalog.pg_class c on c.oid = t.oid join pg_catalog.pg_namespace n on n.oid = c.relnamespace`;

/**
 * Every sequence a standby holds differently from the primary, and the views reaching one,
 * transitively. Sequences are WAL-logged ahead (32 values per record): after 3 `nextval()`
 * calls a caught-up standby's `last_value` says 33 where the primary's says 3. Unlogged and
 * temporary sequences are left out: the query above already lists them.
 */
export const SEQUENCES_SQL = `with recursive reached(oid) as (
  select c.oid from pg_catalog.pg_class c where c.relkind = 'S' and c.relpersistence = 'p'
  union
  select r.ev_class from reached t
    join pg_catalog.pg_depend d on d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = t.oid
     and d.classid = 'pg_catalog.pg_rewrite'::regclass
    join pg_catalog.pg_rewrite r on r.oid = d.objid and r.ev_class <> t.oid
    join pg_catalog.pg_class v on v.oid = r.ev_class and v.relkind = 'v'
)
select n.nspname::text as schema, c.relname::text as name
  from reached t join pg_catalog.pg_class c on c.oid = t.oid join pg_catalog.pg_namespace n on n.oid = c.relnamespace`;

/**
 * The four queries, sent as one simple-protocol round trip (one implicit transaction).
 *
 * @example
 * const [path, functions, relations, sequences] = await pgClient.query(CATALOG_SQL);
 */
export const CATALOG_SQL = [SEARCH_PATH_SQL, FUNCTIONS_SQL, UNLOGGED_RELATIONS_SQL, SEQUENCES_SQL].join(';\n');

/**
 * One overload of a function, as `pg_proc` describes it.
 *
 * @example
 * const row: FunctionRow = { schema: 'app', name: 'slugify', args: '25', volatility: 'i' };
 */
export interface FunctionRow {
  schema: string;
  name: string;
  /** `pg_proc.proargtypes` as text: input argument type OIDs separated by spaces. */
  args: string;
  /** `pg_proc.provolatile`: `i`mmutable, `s`table or `v`olatile. */
  volatility: string;
}

/**
 * A relation a standby cannot read.
 *
 * @example
 * const row: RelationRow = { schema: 'public', name: 'session_cache', persistence: 'u' };
 */
export interface RelationRow {
  schema: string;
  name: string;
  /** `pg_class.relpersistence` of the relation itself: `u`, `t`, or `p` (reached through a child or a view). */
  persistence: string;
}

/**
 * A sequence (or a view reaching one) whose state a standby holds differently.
 *
 * @example
 * const row: SequenceRow = { schema: 'public', name: 'users_id_seq' };
 */
export interface SequenceRow {
  schema: string;
  name: string;
}

/**
 * What one catalog load read from the primary.
 *
 * @example
 * const rows: CatalogRows = { role: 'app', schemas: ['pg_catalog', 'public'], functions: [], relations: [] };
 */
export interface CatalogRows {
  role: string;
  /** The effective search_path, implicit schemas included, in lookup order. */
  schemas: string[];
  functions: FunctionRow[];
  relations: RelationRow[];
  /** Sequences and views reaching one; absent from readers written before they were loaded. */
  sequences?: SequenceRow[];
}

interface QueryResult { rows: Array<Record<string, unknown>> }

/**
 * Reads function volatility, unlogged relations, sequences and the search_path in one round trip on a
 * connection to the primary (a pg client: `connection.query(text)`).
 *
 * @example
 * const conn = await core.router.writer().acquire();
 * try { const rows = await readCatalog(conn); } finally { await core.router.writer().release(conn); }
 */
export async function readCatalog(connection: PooledConnection): Promise<CatalogRows> {
  const client = connection as unknown as { query(sql: string): Promise<QueryResult | QueryResult[]> };
  const results = await client.query(CATALOG_SQL);
  if (!Array.isArray(results) || results.length !== 4) throw new Error('split-knex: unexpected answer to the catalog queries');
  const [path, functions, relations, sequences] = results as [QueryResult, QueryResult, QueryResult, QueryResult];
  const first = path.rows[0] ?? {};
  return {
    role: String(first.role ?? ''),
    schemas: Array.isArray(first.schemas) ? first.schemas.map(String) : [],
    functions: functions.rows as unknown as FunctionRow[],
    relations: relations.rows as unknown as RelationRow[],
    sequences: sequences.rows as unknown as SequenceRow[],
  };
}
