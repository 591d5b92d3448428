import { REACHABLE_INSERT_POSITION } from '../route/commit-position';

export { REACHABLE_INSERT_POSITION };

/** SQL for a node's replay position in bytes: a standby's last replayed byte, or the primary's reachable insert position. */
export const REPLAYED_POSITION = `(case when pg_catalog.pg_is_in_recovery()
  then pg_catalog.pg_last_wal_replay_lsn() - '0/0'::pg_lsn else ${REACHABLE_INSERT_POSITION} end)`;

/**
 * Parses a WAL position: a byte count in decimal (as the SQL above yields it) or a
 * `pg_lsn` text (`'16/B374D848'`). Exact below 2^53 bytes of WAL (8 PiB); `NaN` otherwise.
 *
 * @example
 * parseLsn('0/16B3748'); // 23803720
 * parseLsn('23803720');  // 23803720
 */
export function parseLsn(text: string): number {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  const m = /^([0-9a-fA-F]{1,8})\/([0-9a-fA-F]{1,8})$/.exec(text);
  return m === null ? NaN : parseInt(m[1]!, 16) * 0x1_0000_0000 + parseInt(m[2]!, 16);
}

/**
 * A WAL position as 16 hex digits: compares as a string the way it compares as a number
 * (what the Redis store keeps).
 *
 * @example
 * formatHexLsn(23803720); // '00000000016b3748'
 */
export function formatHexLsn(lsn: number): string {
  return Math.max(0, Math.floor(lsn)).toString(16).padStart(16, '0');
}

/**
 * Reads back {@link formatHexLsn}; `0` for anything else.
 *
 * @example
 * parseHexLsn('00000000016b3748'); // 23803720
 */
export function parseHexLsn(text: string): number {
  return /^[0-9a-f]{16}$/.test(text) ? parseInt(text, 16) : 0;
}
