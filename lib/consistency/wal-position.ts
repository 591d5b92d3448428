/** A PostgreSQL `pg_lsn` in its text form, e.g. `'16/B374D848'`. */
export const LSN_PATTERN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

const SHIFT = 32n;
const LOW_WORD = 0xffffffffn;

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

