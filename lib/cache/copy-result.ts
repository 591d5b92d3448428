/**
 * A deep copy of a query result and an estimate of the memory it holds.
 *
 * @example
 * const { value, bytes } = copyResult([{ id: 1, at: new Date() }]);
 */
export interface CopiedResult {
  value: unknown;
  bytes: number;
}

/** Thrown (and caught by the cache) for values it will not copy: too deep, or cyclic. */
export class UncopyableResult extends Error {}

const MAX_DEPTH = 64;
// The fields of a pg `Result` that are driver machinery, shared by every result: never copied.
const PG_RESULT_SHARED = new Set(['_types', '_parsers', 'RowCtor', '_prebuiltEmptyResultObject']);

/**
 * Copies a knex result so that no caller ever shares a mutable object with the cache or
 * with another caller: arrays and plain objects deeply, `Date`s, `Buffer`s and typed
 * arrays by value, `Map`/`Set` deeply, and other class instances (`pg`'s `Result`,
 * interval objects of custom type parsers) as a new object with the same prototype and
 * copied own fields. Functions are shared (they are not data). The size is an estimate
 * (strings counted at 2 bytes a character plus per-object overheads), meant for bounding
 * the cache, not for accounting.
 *
 * @example
 * const rows = [{ id: 1 }];
 * const { value } = copyResult(rows);
 * (value as typeof rows)[0]!.id = 2; // rows[0].id is still 1
 */
export function copyResult(value: unknown): CopiedResult {
  const size = { bytes: 0 };
  const copied = copy(value, size, 0);
  return { value: copied, bytes: size.bytes };
}

function copy(v: unknown, size: { bytes: number }, depth: number): unknown {
  switch (typeof v) {
    case 'string':
      size.bytes += 16 + 2 * v.length;
      return v;
    case 'number':
    case 'boolean':
    case 'undefined':
      size.bytes += 8;
      return v;
    case 'bigint':
      size.bytes += 24;
      return v;
    case 'object':
      if (v === null) {
        size.bytes += 8;
        return v;
      }
      if (depth > MAX_DEPTH) throw new UncopyableResult(`result nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
      return copyObject(v, size, depth + 1);
    default:
      // Functions and symbols are shared: they carry no row data.
      size.bytes += 8;
      return v;
  }
}

function copyObject(v: object, size: { bytes: number }, depth: number): unknown {
  if (Array.isArray(v)) {
    size.bytes += 16 + 8 * v.length;
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copy(v[i], size, depth);
    return out;
  }
  if (v instanceof Date) {
    size.bytes += 24;
    return new Date(v.getTime());
  }
  if (Buffer.isBuffer(v)) {
    size.bytes += 32 + v.length;
    return Buffer.from(v);
  }
  if (ArrayBuffer.isView(v)) {
    size.bytes += 32 + v.byteLength;
    const Ctor = v.constructor as new (source: ArrayBufferView) => ArrayBufferView;
    return v instanceof DataView ? new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) : new Ctor(v);
  }
  if (v instanceof Map) {
    size.bytes += 32;
    const out = new Map();
    for (const [k, x] of v) out.set(copy(k, size, depth), copy(x, size, depth));
    return out;
  }
  if (v instanceof Set) {
    size.bytes += 32;
    const out = new Set();
    for (const x of v) out.add(copy(x, size, depth));
    return out;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  const out = Object.create(proto) as Record<string, unknown>;
  const src = v as Record<string, unknown>;
  const pgResult = proto !== Object.prototype && proto !== null && isPgResult(src);
  size.bytes += 24;
  for (const k of Object.keys(src)) {
    size.bytes += 8;
    const x = pgResult && PG_RESULT_SHARED.has(k) ? src[k] : copy(src[k], size, depth);
    // A column named __proto__ must stay a column, not become the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out;
}

/** True for what knex returns for `db.raw()` on PostgreSQL: a `pg` `Result`. */
export function isPgResult(v: Record<string, unknown>): boolean {
  return Array.isArray(v.rows) && typeof v.command === 'string' && 'rowCount' in v;
}

/**
 * The form a shared store serializes: a `pg` `Result` as a plain object (its parsers are
 * functions and cannot be serialized), everything else as it is.
 *
 * @example
 * v8.serialize(toPortable(result));
 */
export function toPortable(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && isPgResult(value as Record<string, unknown>)) {
    const r = value as Record<string, unknown>;
    return { command: r.command, rowCount: r.rowCount, oid: r.oid, rows: r.rows, fields: r.fields, rowAsArray: r.rowAsArray };
  }
  return value;
}
