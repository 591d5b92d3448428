import type { RelationRef } from './cacheable-sql';

/** One relation as the catalog query reports it (oids as text). */
export interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  /** pg_class.relkind: r table, p partitioned, v view, m materialized view, f foreign, S sequence. */
  kind: string;
  /** Row-level security enabled. */
  rls: boolean;
  /** Has user (non-internal) triggers. */
  triggers: boolean;
  /** Has rewrite rules other than a view's `_RETURN`. */
  rules: boolean;
  /** A view that calls functions that are not immutable (they may read any table). */
  opaque: boolean;
  /** Inheritance / partition parents. */
  parents: string[];
  /** Tables whose foreign keys cascade (or set null/default) from this one. */
  cascades: string[];
  /** For views: the relations the view reads. */
  reads: string[];
}

/** The tags a read depends on, or why it cannot be cached. */
export type ReadTags = { tags: string[]; refusal?: undefined } | { refusal: string; unknown?: boolean };

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema']);
const DATA_KINDS = new Set(['r', 'p', 'm']);

/**
 * What the cache knows about the database's relations, loaded from the primary's catalog:
 * how names resolve on the search path, which base tables a view reads, which tables a
 * write reaches through partitions, inheritance and cascading foreign keys, and which
 * tables have triggers or row-level security. Tags are canonical `schema.name` strings,
 * so `users`, `"users"` and `public.users` meet on one tag.
 *
 * @example
 * const graph = new RelationGraph(rows, ['pg_catalog', 'public']);
 * graph.readTags([{ schema: undefined, name: 'users', display: 'users' }], false); // { tags: ['public.users'] }
 * graph.writeTags(['public.users'], false); // ['public.users', 'public.posts'] (posts cascades from users)
 */
export class RelationGraph {
  private readonly byOid = new Map<string, RelationRow>();
  private readonly byName = new Map<string, RelationRow>();
  private readonly children = new Map<string, string[]>();
  private readonly readMemo = new Map<string, ReadTags>();
  private readonly writeMemo = new Map<string, string[] | undefined>();
  /** Changes when anything the cache relies on changes: a reload that differs clears the cache. */
  readonly fingerprint: string;

  constructor(rows: readonly RelationRow[], readonly searchPath: readonly string[]) {
    const parts: string[] = [searchPath.join(',')];
    for (const row of rows) {
      this.byOid.set(row.oid, row);
      this.byName.set(`${row.schema}\u0000${row.name}`, row);
      for (const p of row.parents) {
        let list = this.children.get(p);
        if (list === undefined) this.children.set(p, (list = []));
        list.push(row.oid);
      }
      if (!SYSTEM_SCHEMAS.has(row.schema)) {
        parts.push(`${row.oid}:${row.schema}.${row.name}:${row.kind}${row.rls ? 'R' : ''}${row.triggers ? 'T' : ''}${row.rules ? 'U' : ''}${row.opaque ? 'O' : ''}`
          + `:${row.parents.join('+')}:${row.cascades.join('+')}:${row.reads.join('+')}`);
      }
    }
    parts.sort();
    this.fingerprint = parts.join('\n');
  }

  /** Number of relations known. */
  get size(): number {
    return this.byOid.size;
  }

  /** The relation a name refers to on this search path, if any. */
  resolve(ref: { schema: string | undefined; name: string }): RelationRow | undefined {
    if (ref.schema !== undefined) return this.byName.get(`${ref.schema}\u0000${ref.name}`);
    for (const schema of this.searchPath) {
      const row = this.byName.get(`${schema}\u0000${ref.name}`);
      if (row !== undefined) return row;
    }
    return undefined;
  }

  /** The tags a read of `relations` depends on, or why it cannot be cached (`scoped`: a cache scope is set). */
  readTags(relations: readonly RelationRef[], scoped: boolean): ReadTags {
    const tags = new Set<string>();
    for (const ref of relations) {
      const row = this.resolve(ref);
      if (row === undefined) return { refusal: `unknown relation ${ref.display}`, unknown: true };
      const r = this.readTagsOf(row, scoped);
      if (r.refusal !== undefined) return r;
      for (const t of r.tags) tags.add(t);
    }
    return { tags: [...tags].sort() };
  }

  /**
   * The tags a committed write to `tables` (as the classifier reports them) invalidates:
   * the tables, their partition/inheritance ancestors and descendants, and tables reached
   * by cascading foreign keys. `undefined` means "clear everything": an unknown relation,
   * or triggers/rules on the way (unless `trustTriggers`).
   */
  writeTags(tables: readonly string[], trustTriggers: boolean): string[] | undefined {
    const tags = new Set<string>();
    for (const table of tables) {
      const rows = this.resolveWritten(table);
      if (rows.length === 0) return undefined;
      for (const row of rows) {
        const t = this.writeTagsOf(row, trustTriggers);
        if (t === undefined) return undefined;
        for (const x of t) tags.add(x);
      }
    }
    return [...tags].sort();
  }

  // The classifier joins name parts with '.', so "a.b" may be schema a + table b, or one
  // quoted name with a dot: take every reading that resolves (over-invalidating is safe).
  private resolveWritten(display: string): RelationRow[] {
    const parts = display.split('.');
    const found: RelationRow[] = [];
    const add = (row: RelationRow | undefined): void => {
      if (row !== undefined && !found.includes(row)) found.push(row);
    };
    if (parts.length >= 2) add(this.resolve({ schema: parts[parts.length - 2], name: parts[parts.length - 1]! }));
    add(this.resolve({ schema: undefined, name: display }));
    return found;
  }

  private readTagsOf(row: RelationRow, scoped: boolean): ReadTags {
    const memoKey = `${scoped ? 's' : 'u'}${row.oid}`;
    let r = this.readMemo.get(memoKey);
    if (r === undefined) {
      r = this.computeReadTags(row, scoped, new Set());
      this.readMemo.set(memoKey, r);
    }
    return r;
  }

  private computeReadTags(row: RelationRow, scoped: boolean, seen: Set<string>): ReadTags {
    const label = `${row.schema}.${row.name}`;
    if (SYSTEM_SCHEMAS.has(row.schema)) return { refusal: `system relation ${label}` };
    if (row.rls && !scoped) return { refusal: `row-level security on ${label} needs cache.scope` };
    if (DATA_KINDS.has(row.kind)) return { tags: [label] };
    if (row.kind !== 'v') return { refusal: `${row.kind === 'f' ? 'foreign table' : row.kind === 'S' ? 'sequence' : 'relation'} ${label}` };
    if (row.opaque) return { refusal: `view ${label} calls functions that are not immutable` };
    if (seen.has(row.oid)) return { tags: [] };
    seen.add(row.oid);
    const tags: string[] = [];
    for (const oid of row.reads) {
      const dep = this.byOid.get(oid);
      if (dep === undefined) return { refusal: `view ${label} reads an unknown relation` };
      const r = this.computeReadTags(dep, scoped, seen);
      if (r.refusal !== undefined) return { refusal: `view ${label}: ${r.refusal}` };
      tags.push(...r.tags);
    }
    return { tags };
  }

  private writeTagsOf(row: RelationRow, trustTriggers: boolean): string[] | undefined {
    const memoKey = `${trustTriggers ? 't' : 'f'}${row.oid}`;
    if (this.writeMemo.has(memoKey)) return this.writeMemo.get(memoKey);
    const tags = new Set<string>();
    const seen = new Set<string>();
    const queue: RelationRow[] = [row];
    let broad = false;
    const push = (oid: string): void => {
      const r = this.byOid.get(oid);
      if (r === undefined) broad = true;
      else if (!seen.has(oid)) queue.push(r);
    };
    while (queue.length > 0 && !broad) {
      const r = queue.pop()!;
      if (seen.has(r.oid)) continue;
      seen.add(r.oid);
      if (!trustTriggers && (r.triggers || r.rules)) broad = true;
      if (r.kind === 'v') {
        // A write through a view lands in the tables it reads.
        for (const oid of r.reads) push(oid);
        continue;
      }
      tags.add(`${r.schema}.${r.name}`);
      for (const oid of r.parents) push(oid);
      for (const oid of this.children.get(r.oid) ?? []) push(oid);
      for (const oid of r.cascades) push(oid);
    }
    const result = broad ? undefined : [...tags].sort();
    this.writeMemo.set(memoKey, result);
    return result;
  }
}
