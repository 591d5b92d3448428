// Page header sizes of PostgreSQL's WAL (64-bit builds): SizeOfXLogShortPHD and
// SizeOfXLogLongPHD, MAXALIGNed. The long one starts every segment. (BigInt() rather than
// literals: they need an ES2020 target.)
const SHIFT = BigInt(32);
const LOW_WORD = BigInt(0xffffffff);
const SHORT_PAGE_HEADER = BigInt(24);
const LONG_PAGE_HEADER = BigInt(40);

/**
 * Turns a WAL insert position into the end of the last record written: when the insert
 * position sits right after a page header, the previous record ended at the page boundary.
 * Replicas report replay positions as record ends, so only this value is reachable.
 *
 * @example
 * recordBoundary('0/3000028', BigInt(8192), BigInt(16777216)); // '0/3000000' (segment start)
 * recordBoundary('0/3001118', BigInt(8192), BigInt(16777216)); // '0/3001118'
 */
export function recordBoundary(insertLsn: string, blockSize: bigint, segmentSize: bigint): string {
  const position = parseLsn(insertLsn);
  if (position % segmentSize === LONG_PAGE_HEADER) return formatLsn(position - LONG_PAGE_HEADER);
  if (position % blockSize === SHORT_PAGE_HEADER) return formatLsn(position - SHORT_PAGE_HEADER);
  return insertLsn;
}

/** `'16/B374D848'` → byte position. */
export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(lsn);
  if (!match) throw new Error(`not a pg_lsn: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${match[1]}`) << SHIFT) + BigInt(`0x${match[2]}`);
}

/** Byte position → `'16/B374D848'`, PostgreSQL's spelling. */
export function formatLsn(position: bigint): string {
  return `${(position >> SHIFT).toString(16).toUpperCase()}/${(position & LOW_WORD).toString(16).toUpperCase()}`;
}
