/**
 * WAL positions, one type for the whole library: a byte position in the WAL as a `bigint`
 * (a `pg_lsn` is 64 bits; a `number` is exact only below 2^53). PostgreSQL spells one as
 * two hex words (`'16/B374D848'`); `pg_lsn - '0/0'` spells it as a decimal byte count.
 */

/** A PostgreSQL `pg_lsn` in its text form, e.g. `'16/B374D848'`. */
export const LSN_PATTERN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

const SHIFT = 32n;
const LOW_WORD = 0xffffffffn;
const MAX_POSITION = 0xffffffffffffffffn;
const DECIMAL = /^\d{1,20}$/;

/**
 * Parses a `pg_lsn` (`'X/Y'`, two hex words) into a byte position; `undefined` for
 * anything else (SQL NULL included). Strict on purpose: a consistency token carries only
 * this form.
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
 * Parses a WAL position in either spelling PostgreSQL gives: a `pg_lsn` (`'0/16B3748'`) or a
 * decimal byte count (what `pg_current_wal_lsn() - '0/0'` returns, as text or as a number
 * exact below 2^53). `undefined` for anything else, negative or beyond 64 bits included.
 *
 * @example
 * parseWalPosition('0/16B3748') // 23803720n
 * parseWalPosition('23803720')  // 23803720n
 * parseWalPosition(null)        // undefined
 */
export function parseWalPosition(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= MAX_POSITION ? value : undefined;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
  if (typeof value !== 'string') return undefined;
  if (DECIMAL.test(value)) {
    const position = BigInt(value);
    return position <= MAX_POSITION ? position : undefined;
  }
  return parseLsn(value);
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
 * Bytes of WAL from `from` to `to`, like `pg_wal_lsn_diff(to, from)` but client side, so
 * positions read on different servers can be compared. Negative when `to` is behind `from`.
 *
 * @example
 * walBytesBetween(parseLsn('0/3000000')!, parseLsn('0/3000060')!) // 96n
 */
export function walBytesBetween(from: bigint, to: bigint): bigint {
  return to - from;
}
