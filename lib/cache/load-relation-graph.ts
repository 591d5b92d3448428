import type { Queryable } from '../background/background-link';
import { RelationGraph, type RelationRow } from './relation-graph';

// One pass over pg_class with everything the cache needs per relation. Views are "opaque"
// when they call a function that is not immutable: it may read tables the view does not name.
const RELATIONS_SQL = `
select c.oid::text as oid, n.nspname as schema, c.relname as name, c.relkind::text as kind,
  c.relrowsecurity as rls,
  exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = c.oid and not t.tgisinternal) as triggers,
  exists (select 1 from pg_catalog.pg_rewrite r where r.ev_class = c.oid and r.rulename <> '_RETURN') as rules,
  c.relkind = 'v' and exists (
    select 1 from pg_catalog.pg_rewrite r
    join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = r.oid
      and d.refclassid = 'pg_catalog.pg_proc'::regclass
    join pg_catalog.pg_proc p on p.oid = d.refobjid
    where r.ev_class = c.oid and p.provolatile <> 'i') as opaque,
  array(select i.inhparent::text from pg_catalog.pg_inherits i where i.inhrelid = c.oid) as parents,
  array(select distinct k.conrelid::text from pg_catalog.pg_constraint k
    where k.contype = 'f' and k.confrelid = c.oid and (k.confdeltype in ('c', 'n', 'd') or k.confupdtype in ('c', 'n', 'd'))) as cascades,
  case when c.relkind = 'v' then array(
    select distinct d.refobjid::text from pg_catalog.pg_rewrite r
    join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = r.oid
      and d.refclassid = 'pg_catalog.pg_class'::regclass
    where r.ev_class = c.oid and d.refobjid <> c.oid) else '{}'::text[] end as reads
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and n.nspname !~ '^pg_(toast|temp_)'`;

interface PgClient {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * Loads the {@link RelationGraph} over one connection (the primary's, whose `search_path`
 * knex has set from the config): the relations, then the schemas an unqualified name is
 * looked up in, in order.
 *
 * @example
 * const conn = await primary.acquire();
 * try { graph = await loadRelationGraph(conn) } finally { await primary.release(conn) }
 */
export async function loadRelationGraph(connection: Queryable): Promise<RelationGraph> {
  const client = connection as unknown as PgClient;
  const rels = await client.query(RELATIONS_SQL);
  const path = await client.query('select pg_catalog.current_schemas(true)::text[] as path');
  const rows: RelationRow[] = rels.rows.map((r) => ({
    oid: String(r.oid),
    schema: String(r.schema),
    name: String(r.name),
    kind: String(r.kind),
    rls: r.rls === true,
    triggers: r.triggers === true,
    rules: r.rules === true,
    opaque: r.opaque === true,
    parents: textArray(r.parents),
    cascades: textArray(r.cascades),
    reads: textArray(r.reads),
  }));
  return new RelationGraph(rows, textArray(path.rows[0]?.path));
}

function textArray(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}
