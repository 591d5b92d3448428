import type { BackgroundLinks } from '../background/background-links';
import type { Node } from '../route/node';
import { parseLsn } from '../wal-position';

/** A replica's answer to the position poll. */
export interface ReplicaReading {
  /** `pg_last_wal_replay_lsn()`; undefined when the node is not replaying (not a standby). */
  replayLsn: bigint | undefined;
  /** `now() - pg_last_xact_replay_timestamp()` in ms, on the replica's clock; undefined if nothing was replayed yet. */
  replayAgeMs: number | undefined;
}

/**
 * The queries behind positions and lag, behind an interface so tests can fake them.
 *
 * @example
 * const probes: PositionProbes = { replica: async () => ({ replayLsn: 1n, replayAgeMs: 0 }), primary: async () => 1n };
 */
export interface PositionProbes {
  /** Reads a replica's replay position and replay age; gives up after `timeoutMs`. */
  replica(node: Node, timeoutMs: number): Promise<ReplicaReading>;
  /** Reads the primary's current WAL write position; gives up after `timeoutMs`. */
  primary(node: Node, timeoutMs: number): Promise<bigint | undefined>;
}

// One statement, read-only and cheap on a standby. A promoted node (not in recovery)
// reports no position: we cannot prove it has the primary's writes.
const REPLICA_SQL = `select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()::text end as replay_lsn,
  (extract(epoch from (now() - pg_last_xact_replay_timestamp())) * 1000)::float8 as replay_age_ms`;
// The write position is a record end (reachable by a standby): right for lag in bytes.
const PRIMARY_SQL = 'select pg_current_wal_lsn()::text as lsn';

/**
 * The probes split-knex uses: each node's dedicated background connection (never the
 * application's pool, so a saturated pool cannot make lag "unknown", and no pooled session
 * is ever borrowed).
 *
 * @example
 * const probes = linkPositionProbes(links);
 * const reading = await probes.replica(replicaNode, 2000);
 */
export function linkPositionProbes(links: BackgroundLinks): PositionProbes {
  return {
    async replica(node, timeoutMs) {
      const row = (await links.of(node).query(REPLICA_SQL, undefined, timeoutMs)).rows[0];
      const age = row?.replay_age_ms;
      return {
        replayLsn: parseLsn(row?.replay_lsn),
        replayAgeMs: typeof age === 'number' && Number.isFinite(age) ? Math.max(0, age) : undefined,
      };
    },
    async primary(node, timeoutMs) {
      return parseLsn((await links.of(node).query(PRIMARY_SQL, undefined, timeoutMs)).rows[0]?.lsn);
    },
  };
}
