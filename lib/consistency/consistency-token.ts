import { SplitKnexError } from '../errors';
import type { ConsistencySnapshot } from './consistency-state';
import { MAX_TABLE_WINDOWS } from './consistency-state';
import { formatLsn, LSN_PATTERN, parseLsn } from '../wal-position';

/** Tokens are for cookies, headers and job payloads: keep them small and bounded. */
const MAX_TOKEN_LENGTH = 4096;
const TOKEN_VERSION = 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The JSON inside a version-1 token. */
interface TokenBody {
  v: number;
  /** Causal WAL position, `X/Y`. */
  l?: string;
  /** When the write at `l` committed, epoch ms. */
  a?: number;
  /** Window end for every read, epoch ms. */
  u?: number;
  /** Per-table window ends: `[table, epoch ms]`. */
  t?: Array<[string, number]>;
  /** A write whose position was still being read when the token was minted: when it committed, epoch ms. */
  p?: number;
}

/**
 * Encodes a scope's state as a small opaque string (base64url of a versioned JSON).
 *
 * @example
 * encodeConsistencyToken({ lsn: 0x3000060n, lsnAt: 1700000000000, until: 0, tables: [] })
 * // 'eyJ2IjoxLCJsIjoiMC8zMDAwMDYwIiwiYSI6MTcwMDAwMDAwMDAwMH0'
 */
export function encodeConsistencyToken(snapshot: ConsistencySnapshot): string {
  const body: TokenBody = { v: TOKEN_VERSION };
  if (snapshot.lsn !== undefined) {
    body.l = formatLsn(snapshot.lsn);
    body.a = snapshot.lsnAt;
  }
  if (snapshot.until > 0) body.u = snapshot.until;
  if (snapshot.tables.length > 0) body.t = snapshot.tables.map(([k, e]) => [k, e]);
  if (snapshot.pendingAt !== undefined && snapshot.pendingAt > 0) body.p = snapshot.pendingAt;
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/**
 * Decodes and validates a token; anything malformed throws `ESPLIT_TOKEN` (a token is
 * never half-applied, and a bad one never silently routes a read to a stale replica).
 *
 * @example
 * decodeConsistencyToken(db.consistencyToken()) // { lsn, until, tables }
 */
export function decodeConsistencyToken(token: unknown): ConsistencySnapshot {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token)) {
    throw bad(`must be a non-empty base64url string of at most ${MAX_TOKEN_LENGTH} characters`);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (err) {
    throw bad('is not valid token JSON', err);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('is not a token object');
  const b = body as Record<string, unknown>;
  if (b.v !== TOKEN_VERSION) throw bad(`has version ${JSON.stringify(b.v)}; this split-knex reads version ${TOKEN_VERSION}`);
  for (const key of Object.keys(b)) if (!['v', 'l', 'a', 'u', 't', 'p'].includes(key)) throw bad(`has an unknown field ${JSON.stringify(key)}`);
  let lsn: bigint | undefined;
  if (b.l !== undefined) {
    if (typeof b.l !== 'string' || !LSN_PATTERN.test(b.l)) throw bad('has a malformed WAL position');
    lsn = parseLsn(b.l);
    if (!isTime(b.a)) throw bad('has a malformed write time');
  } else if (b.a !== undefined) throw bad('has a write time without a WAL position');
  if (b.u !== undefined && !isTime(b.u)) throw bad('has a malformed window end');
  const tables: Array<[string, number]> = [];
  if (b.t !== undefined) {
    if (!Array.isArray(b.t) || b.t.length > MAX_TABLE_WINDOWS) throw bad('has a malformed table list');
    for (const entry of b.t as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || entry[0].length === 0 || entry[0].length > 128 || !isTime(entry[1])) {
        throw bad('has a malformed table entry');
      }
      tables.push([entry[0], entry[1] as number]);
    }
  }
  if (b.p !== undefined && (!isTime(b.p) || b.p === 0)) throw bad('has a malformed pending write time');
  const out: ConsistencySnapshot = { lsn, lsnAt: lsn === undefined ? 0 : (b.a as number), until: (b.u as number | undefined) ?? 0, tables };
  if (b.p !== undefined) out.pendingAt = b.p as number;
  return out;
}

function isTime(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function bad(what: string, cause?: unknown): SplitKnexError {
  return new SplitKnexError('ESPLIT_TOKEN', `split-knex: consistency token ${what}`, cause === undefined ? {} : { cause });
}
