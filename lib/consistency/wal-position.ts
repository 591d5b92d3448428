/** A PostgreSQL `pg_lsn` in its text form, e.g. `'16/B374D848'`. */
export const LSN_PATTERN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

const SHIFT = 32n;
const LOW_WORD = 0xffffffffn;
// Page header sizes of PostgreSQL's WAL on 64-bit builds (SizeOfXLogShortPHD and
// SizeOfXLogLongPHD, MAXALIGNed); the long one starts every segment.
const SHORT_PAGE_HEADER = 24n;
const LONG_PAGE_HEADER = 40n;

/**
 * Parses a `pg_lsn` (`'X/Y'`, two hex words) into a byte position; `undefined` for
 * anything else (SQL NULL included).
 *
 * @example
 * parseLsn('1/0') // 4294967296n
 * parseLsn('nope') // undefined
 */
export function parseLsn(text: unknown): bigint | undefined {
  if (typeof text !== 'string' || !LSN_PATTERN.test(text)) return undefined;
  const slash = text.indexOf('/');
  return (BigInt(`0x${text.slice(0, slash)}`) << SHIFT) + BigInt(`0x${text.slice(slash + 1)}`);
}

/**
 * Formats a byte position the way PostgreSQL spells a `pg_lsn`.
 *
 * @example
 * formatLsn(4294967296n) // '1/0'
 */
export function formatLsn(position: bigint): string {
  return `${(position >> SHIFT).toString(16).toUpperCase()}/${(position & LOW_WORD).toString(16).toUpperCase()}`;
}

/**
 * Turns `pg_current_wal_insert_lsn()` into a position a standby can report as replayed.
 *
 * The insert position is where the *next* record goes: right after a page boundary it
 * points past the page header, while a standby reports `pg_last_wal_replay_lsn()` as the
 * end of the last record it replayed, which is the boundary itself. Without this step a
 * standby of an idle primary would never look caught up.
 *
 * @example
 * reachableLsn(0x3000028n, 8192n, 16777216n) // 0x3000000n: segment start, after its long header
 * reachableLsn(0x3002018n, 8192n, 16777216n) // 0x3002000n: page start, after a short header
 * reachableLsn(0x3001118n, 8192n, 16777216n) // 0x3001118n: mid-page, unchanged
 */
export function reachableLsn(insertPosition: bigint, blockSize: bigint, segmentSize: bigint): bigint {
  if (insertPosition % segmentSize === LONG_PAGE_HEADER) return insertPosition - LONG_PAGE_HEADER;
  if (insertPosition % blockSize === SHORT_PAGE_HEADER) return insertPosition - SHORT_PAGE_HEADER;
  return insertPosition;
}
