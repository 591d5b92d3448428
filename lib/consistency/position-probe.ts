import type { PooledConnection } from '../knex/knex-internals';
import type { Node } from '../route/node';
import { parseLsn } from './wal-position';

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

/** What we call on a pooled `pg.Client`. */
interface Queryable {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}

// One statement, read-only and cheap on a standby. A promoted node (not in recovery)
// reports no position: we cannot prove it has the primary's writes.
const REPLICA_SQL = `select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()::text end as replay_lsn,
  (extract(epoch from (now() - pg_last_xact_replay_timestamp())) * 1000)::float8 as replay_age_ms`;
// The write position is a record end (reachable by a standby): right for lag in bytes.
const PRIMARY_SQL = 'select pg_current_wal_lsn()::text as lsn';

/**
 * The probes split-knex uses: one pooled connection per query, taken from the node's own
 * pool and given back at once.
 *
 * @example
 * const reading = await sqlPositionProbes.replica(replicaNode);
 */
export const sqlPositionProbes: PositionProbes = {
  async replica(node, timeoutMs) {
    const row = await queryNode(node, REPLICA_SQL, timeoutMs);
    const age = row?.replay_age_ms;
    return {
      replayLsn: parseLsn(row?.replay_lsn),
      replayAgeMs: typeof age === 'number' && Number.isFinite(age) ? Math.max(0, age) : undefined,
    };
  },
  async primary(node, timeoutMs) {
    return parseLsn((await queryNode(node, PRIMARY_SQL, timeoutMs))?.lsn);
  },
};

async function queryNode(node: Node, sql: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  const connection = await node.acquire();
  const client = connection as unknown as Queryable;
  const query = client.query(sql);
  // The connection goes back to the pool only once its query has settled, never mid-query.
  void query.then(() => node.release(connection), () => node.release(connection)).catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // A node that does not answer (paused, partitioned) would hold this pooled connection,
      // and with it db.destroy(), for good: pg destroys the socket of a client ended mid-query,
      // the query fails, and knex's pool discards the connection.
      reject(new Error(`${node.name}: no answer within ${timeoutMs} ms`));
      client.end().catch(() => undefined);
    }, timeoutMs);
    timer.unref();
  });
  try {
    return (await Promise.race([query, timeout])).rows[0];
  } finally {
    clearTimeout(timer);
  }
}

