/** Thrown by {@link serializeValue} for a value it cannot name exactly (the read is then not cached). */
export class UnkeyableValue extends Error {}

/**
 * Everything that changes a read's answer, and so goes into its key.
 *
 * @example
 * const parts: KeyParts = {
 *   identity: 'app@appdb', searchPath: '', route: 'replicas', scope: 'tenant-7',
 *   context: '', text: 'select * from "users" where "id" = ?', bindings: [1],
 * };
 */
export interface KeyParts {
  /** Database user and database of the node's connection. */
  identity: string;
  /** The config's `searchPath`, if set. */
  searchPath: string;
  /** Which nodes may answer: `replicas`, or `node:<name>` for `db.replica(name)`. */
  route: string;
  /** The config's `scope` for this query (tenant, role). */
  scope: string;
  /** The query context, when a `postProcessResponse` hook may read it. */
  context: string;
  /** The SQL text, or the user's own `.cache({ key })`. */
  text: string;
  /** `JSON.stringify(text)`, when the caller has it already (long SQL is quoted once per text, not per read). */
  quotedText?: string;
  bindings: readonly unknown[] | undefined;
}

/**
 * Builds the key of a read: an unambiguous string of its parts (JSON-quoted, so no
 * separator inside a part can make two reads share a key).
 *
 * @example
 * cacheKey(parts); // '["app@appdb","","replicas","tenant-7","","select * from \\"users\\" where \\"id\\" = ?"]n1'
 */
export function cacheKey(p: KeyParts): string {
  // Exactly JSON.stringify([...parts]), without quoting the SQL text again on every read.
  const q = JSON.stringify;
  const head = `[${q(p.identity)},${q(p.searchPath)},${q(p.route)},${q(p.scope)},${q(p.context)},${p.quotedText ?? q(p.text)}]`;
  return p.bindings === undefined ? head : head + serializeValue(p.bindings, 0);
}

/**
 * A string that names a binding value exactly, types included: `1` and `'1'` differ, a
 * `Date` differs from its ISO string, `Buffer`s by content. Throws {@link UnkeyableValue}
 * for functions, symbols and class instances it does not know.
 *
 * @example
 * serializeValue([1, '1', new Date(0)], 0); // '[n1,"1",d0]'
 */
export function serializeValue(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return `n${Object.is(v, -0) ? '-0' : String(v)}`;
    case 'boolean':
      return v ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'bigint':
      return `b${String(v)}`;
    case 'object':
      break;
    default:
      throw new UnkeyableValue(`a ${typeof v} binding`);
  }
  if (v === null) return 'z';
  if (depth > 32) throw new UnkeyableValue('a binding nested too deeply');
  if (Array.isArray(v)) return `[${v.map((x) => serializeValue(x, depth + 1)).join(',')}]`;
  if (v instanceof Date) return `d${v.getTime()}`;
  if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`;
  // What pg itself sends for such an object (it asks toPostgres() before anything else).
  const toPostgres = (v as { toPostgres?: unknown }).toPostgres;
  if (typeof toPostgres === 'function') return `p${serializeValue((toPostgres as () => unknown).call(v), depth + 1)}`;
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto === Object.prototype || proto === null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).map((k) => `${JSON.stringify(k)}:${serializeValue(o[k], depth + 1)}`).join(',')}}`;
  }
  throw new UnkeyableValue(`a binding of class ${(v as object).constructor?.name ?? 'unknown'}`);
}

/**
 * The user and database a node connects as, from its knex connection setting: `user@db`.
 * Provider functions are only known once called, so they yield `fallback` (e.g. the node's
 * name): entries are then not shared between nodes, which is safe.
 *
 * @example
 * connectionIdentity('postgres://app:secret@db1/appdb', 'primary'); // 'app@appdb'
 */
export function connectionIdentity(connection: unknown, fallback: string): string {
  if (typeof connection === 'function') return `provider:${fallback}`;
  let user: string | undefined;
  let database: string | undefined;
  const fromString = (s: string): void => {
    if (/^postgres(ql)?:\/\//i.test(s)) {
      try {
        const url = new URL(s);
        user = decodeURIComponent(url.username) || url.searchParams.get('user') || undefined;
        database = decodeURIComponent(url.pathname.replace(/^\//, '')) || url.searchParams.get('dbname') || undefined;
      } catch {
        // Unparseable: leave unknown; the fallback below still names the node.
      }
    } else {
      user = /(?:^|\s)user\s*=\s*'?([^'\s]+)/.exec(s)?.[1];
      database = /(?:^|\s)dbname\s*=\s*'?([^'\s]+)/.exec(s)?.[1];
    }
  };
  if (typeof connection === 'string') fromString(connection);
  else if (connection !== null && typeof connection === 'object') {
    const c = connection as Record<string, unknown>;
    if (typeof c.connectionString === 'string') fromString(c.connectionString);
    if (typeof c.user === 'string') user = c.user;
    if (typeof c.database === 'string') database = c.database;
  }
  user ??= process.env.PGUSER ?? 'unknown-user';
  database ??= process.env.PGDATABASE ?? user;
  return `${user}@${database}`;
}
