/** The most a NOTIFY payload may hold (PostgreSQL's limit is 8000 bytes). */
export const MAX_PAYLOAD_BYTES = 7900;

/**
 * An invalidation as it travels between instances on the NOTIFY channel: who sent it,
 * the primary's WAL position right after the write committed, and the tags (or `all`).
 *
 * @example
 * const m: InvalidationMessage = { origin: 'k3x…', lsn: 23803720, tags: ['public.users'], ddl: false };
 */
export interface InvalidationMessage {
  origin: string;
  lsn: bigint;
  /** `undefined`: everything. */
  tags: readonly string[] | undefined;
  /** The schema changed: receivers reload their relation catalog too. */
  ddl: boolean;
}

/**
 * The payload of an invalidation without its WAL position, as two halves: the server
 * joins them around `pg_current_wal_insert_lsn()::text`, so position and notification are
 * taken in one round trip. Tags that would not fit become "everything".
 *
 * @example
 * const [head, tail] = payloadHalves('k3x', ['public.users'], false);
 * // select pg_notify($1, $2 || pg_current_wal_insert_lsn()::text || $3)
 */
export function payloadHalves(origin: string, tags: readonly string[] | undefined, ddl: boolean): [string, string] {
  const head = `{"v":1,"o":${JSON.stringify(origin)},"d":${ddl ? 1 : 0},"l":"`;
  if (tags !== undefined) {
    const tail = `","t":${JSON.stringify(tags)}}`;
    if (Buffer.byteLength(head) + Buffer.byteLength(tail) + 20 <= MAX_PAYLOAD_BYTES) return [head, tail];
  }
  return [head, '","a":1}'];
}

/**
 * Reads a payload back; `undefined` for anything that is not one of ours (other
 * applications may share the channel).
 *
 * @example
 * parseInvalidation('{"v":1,"o":"k3x","d":0,"l":"0/16B3748","t":["public.users"]}');
 */
export function parseInvalidation(payload: string, parseLsn: (text: string) => bigint | undefined): InvalidationMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== 'object') return undefined;
  const o = m as Record<string, unknown>;
  if (o.v !== 1 || typeof o.o !== 'string' || typeof o.l !== 'string') return undefined;
  const lsn = parseLsn(o.l);
  if (lsn === undefined) return undefined;
  const tags = o.a === 1 ? undefined : o.t;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))) return undefined;
  return { origin: o.o, lsn, tags: tags as string[] | undefined, ddl: o.d === 1 };
}
