import type { FunctionVolatility } from '../classify';
import { isTempSchema } from '../classify/relation-rules';
import type { CatalogRows } from './catalog-queries';

const RANK: Record<FunctionVolatility, number> = { immutable: 0, stable: 1, volatile: 2 };
const BY_CODE: Record<string, FunctionVolatility> = { i: 'immutable', s: 'stable', v: 'volatile' };

/** The more dangerous of two volatilities (volatile > stable > immutable). */
function worse(a: FunctionVolatility | undefined, b: FunctionVolatility): FunctionVolatility {
  return a === undefined || RANK[b] > RANK[a] ? b : a;
}

// `schema.name` keys: NUL cannot occur in an identifier, so no two pairs share a key.
function key(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

/**
 * One load of the catalog, immutable, answering the classifier's questions the way
 * PostgreSQL would resolve the names for the session's search_path.
 *
 * - `schema.fn`: the most dangerous volatility among its overloads in that schema.
 * - bare `fn`: every overload PostgreSQL could pick — the functions of that name in the
 *   schemas of the path, minus those an earlier schema masks with the same argument types —
 *   and again the most dangerous volatility wins (the argument types of a call are not
 *   known from the text, so any candidate may be the one called).
 * - relations: `schema.rel` when it is unlogged or temporary, or reaches one (a
 *   partitioned/inheritance parent, a view over it); a bare `rel` when a schema of the path
 *   has such a relation of that name (conservative: an earlier schema might have a
 *   logged one), or when any session has a temporary relation of that name (temporary
 *   relations come first in PostgreSQL's lookup; other sessions' cannot be told apart).
 * - sequences (and views reaching one): `schema.seq` when it is one; a bare `seq` when a
 *   schema of the path has one of that name (conservative, as for unlogged relations).
 *
 * @example
 * const snap = new CatalogSnapshot({
 *   role: 'app', schemas: ['pg_catalog', 'app', 'public'],
 *   functions: [{ schema: 'app', name: 'slugify', args: '25', volatility: 'i' }],
 *   relations: [{ schema: 'public', name: 'sessions', persistence: 'u' }],
 *   sequences: [{ schema: 'public', name: 'invoice_no' }],
 * });
 * snap.functionVolatility('slugify');        // 'immutable'
 * snap.isUnloggedRelation('sessions');       // true
 * snap.isSequence('invoice_no');             // true
 */
export class CatalogSnapshot {
  /** The schemas bare function names resolve in, in order. */
  readonly searchPath: readonly string[];
  /** Distinct schema-qualified function names. */
  readonly functionCount: number;
  /** Relations a standby refuses to read. */
  readonly relationCount: number;
  /** Sequences and views reaching one. */
  readonly sequenceCount: number;
  /** Equal fingerprints mean equal answers. */
  readonly fingerprint: string;
  private readonly qualified = new Map<string, FunctionVolatility>();
  private readonly bare = new Map<string, FunctionVolatility>();
  private readonly relations = new Set<string>();
  private readonly bareRelations = new Set<string>();
  private readonly sequences = new Set<string>();
  private readonly bareSequences = new Set<string>();

  /** `searchPath` overrides the path the primary reported (`$user` is the role). */
  constructor(rows: CatalogRows, searchPath?: readonly string[]) {
    this.searchPath = functionPath(rows, searchPath);
    // Overloads by schema, then name: [argument types, volatility].
    const bySchema = new Map<string, Map<string, Array<[string, FunctionVolatility]>>>();
    for (const f of rows.functions) {
      const volatility = BY_CODE[f.volatility] ?? 'volatile';
      const k = key(f.schema, f.name);
      this.qualified.set(k, worse(this.qualified.get(k), volatility));
      let names = bySchema.get(f.schema);
      if (names === undefined) bySchema.set(f.schema, (names = new Map()));
      let overloads = names.get(f.name);
      if (overloads === undefined) names.set(f.name, (overloads = []));
      overloads.push([f.args, volatility]);
    }
    // Bare names: walk the path; an overload with the argument types of one already met is masked.
    const seen = new Map<string, Set<string>>();
    for (const schema of this.searchPath) {
      for (const [name, overloads] of bySchema.get(schema) ?? []) {
        let signatures = seen.get(name);
        if (signatures === undefined) seen.set(name, (signatures = new Set()));
        const masked = new Set(signatures);
        for (const [args, volatility] of overloads) {
          if (masked.has(args)) continue;
          signatures.add(args);
          this.bare.set(name, worse(this.bare.get(name), volatility));
        }
      }
    }
    this.functionCount = this.qualified.size;

    const pathSchemas = new Set(this.searchPath);
    for (const r of rows.relations) {
      this.relations.add(key(r.schema, r.name));
      if (pathSchemas.has(r.schema) || isTempSchema(r.schema)) this.bareRelations.add(r.name);
    }
    this.relationCount = this.relations.size;
    for (const r of rows.sequences ?? []) {
      this.sequences.add(key(r.schema, r.name));
      if (pathSchemas.has(r.schema)) this.bareSequences.add(r.name);
    }
    this.sequenceCount = this.sequences.size;
    this.fingerprint = fingerprintOf(this.searchPath, this.qualified, this.bare,
      [this.relations, this.bareRelations, this.sequences, this.bareSequences]);
  }

  /** Volatility of `fn` / `schema.fn` as PostgreSQL would resolve it, or undefined when unknown. */
  functionVolatility(name: string, schema?: string): FunctionVolatility | undefined {
    if (schema === undefined) return this.bare.get(name);
    // pg_temp functions belong to one session: unknown here, hence the primary.
    return this.qualified.get(key(schema, name));
  }

  /** True when reading `rel` / `schema.rel` touches an unlogged or temporary relation. */
  isUnloggedRelation(name: string, schema?: string): boolean {
    if (schema === undefined) return this.bareRelations.has(name);
    // A standby has no temporary relations at all: `pg_temp.x` can only run on the primary.
    if (isTempSchema(schema)) return true;
    return this.relations.has(key(schema, name));
  }

  /** True when `seq` / `schema.seq` is a sequence or a view reaching one (its state is primary-only). */
  isSequence(name: string, schema?: string): boolean {
    if (schema === undefined) return this.bareSequences.has(name);
    return this.sequences.has(key(schema, name));
  }
}

// Functions are never looked up in pg_temp unless qualified; pg_catalog comes first unless
// the path names it elsewhere (then current_schemas() already reports it there).
function functionPath(rows: CatalogRows, override: readonly string[] | undefined): string[] {
  const schemas = override === undefined ? rows.schemas : override.map((s) => (s === '$user' ? rows.role : s));
  const path = schemas.filter((s) => !isTempSchema(s));
  if (!path.includes('pg_catalog')) path.unshift('pg_catalog');
  return [...new Set(path)];
}

function fingerprintOf(
  path: readonly string[], qualified: Map<string, FunctionVolatility>, bare: Map<string, FunctionVolatility>,
  nameSets: ReadonlyArray<Set<string>>,
): string {
  const parts: string[] = [path.join(','), '|'];
  for (const [k, v] of [...qualified].sort(byKey)) parts.push(k, v[0]!);
  parts.push('|');
  for (const [k, v] of [...bare].sort(byKey)) parts.push(k, v[0]!);
  for (const names of nameSets) parts.push('|', ...[...names].sort());
  return parts.join('\u0001');
}

function byKey(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
