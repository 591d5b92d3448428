import { REACHABLE_INSERT_POSITION } from '../route/commit-position';

// WAL positions are parsed by lib/wal-position.ts (one type: bigint bytes); this file keeps the cache's SQL and its Redis codec.
export { REACHABLE_INSERT_POSITION };

/** SQL for a node's replay position in bytes: a standby's last replayed byte, or the primary's reachable insert position. */
export const REPLAYED_POSITION = `(case when pg_catalog.pg_is_in_recovery()
  then pg_catalog.pg_last_wal_replay_lsn() - '0/0'::pg_lsn else ${REACHABLE_INSERT_POSITION} end)`;

/**
 * A WAL position as 16 hex digits: compares as a string the way it compares as a number
 * (what the Redis store keeps).
 *
 * @example
 * formatHexLsn(23803720n); // '00000000016b3748'
 */
export function formatHexLsn(lsn: bigint): string {
  return (lsn < 0n ? 0n : lsn).toString(16).padStart(16, '0');
}

/**
 * Reads back {@link formatHexLsn}; `0n` for anything else.
 *
 * @example
 * parseHexLsn('00000000016b3748'); // 23803720n
 */
export function parseHexLsn(text: string): bigint {
  return /^[0-9a-f]{16}$/.test(text) ? BigInt(`0x${text}`) : 0n;
}
