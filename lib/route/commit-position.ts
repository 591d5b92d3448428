import type { PooledConnection } from '../knex/knex-internals';

/**
 * SQL (a scalar subquery) for a WAL position, in bytes as a `numeric`, at or after the end
 * of every commit so far on the primary, that a standby can report as replayed. The insert
 * position is used because, with `synchronous_commit = off`, the write/flush positions can
 * still be before a commit that has returned; it is moved back over a page header it may
 * point past (40 bytes at a segment start, 24 at a page start), since a standby reports
 * the page boundary itself and would otherwise never reach it on an idle primary.
 */
export const REACHABLE_INSERT_POSITION = `(select case when w.b % w.ss = 40 then w.b - 40 when w.b % w.bs = 24 then w.b - 24 else w.b end
  from (select pg_catalog.pg_current_wal_insert_lsn() - '0/0'::pg_lsn as b,
    pg_catalog.current_setting('wal_block_size')::numeric as bs,
    pg_catalog.pg_size_bytes(pg_catalog.current_setting('wal_segment_size')) as ss) w)`;

const POSITION_SQL = `select (${REACHABLE_INSERT_POSITION})::text as lsn`;

interface Queryable {
  query(sql: string): Promise<{ rows: Array<{ lsn?: unknown }> }>;
}

/**
 * Reads, on the connection that just committed, the WAL position a replica must have
 * replayed to show that commit (bytes since 0/0). One round trip.
 *
 * @example
 * const lsn = await readCommitPosition(connection); // 23803720n
 */
export async function readCommitPosition(connection: PooledConnection): Promise<bigint> {
  const res = await (connection as unknown as Queryable).query(POSITION_SQL);
  const text = String(res.rows[0]?.lsn ?? '');
  if (!/^\d{1,20}$/.test(text)) throw new Error(`unexpected WAL position ${text}`);
  return BigInt(text);
}
