import type { Cluster, NodeInfo, ProviderName, QueryOptions, StopMode } from './cluster';
import { queryNode, withNodeClient } from './pg-client';
import { pollUntil } from './poll';
import { recordBoundary } from './wal-position';

/**
 * What every provider shares: node lookup, queries, replication waits, apply delays and
 * the bookkeeping of which nodes are down, paused, promoted or delayed. Providers add the
 * lifecycle (`stop`, `start`, `pause`, `resume`, `promote`, `destroy`).
 * @internal
 */
export abstract class BaseCluster implements Cluster {
  abstract readonly provider: ProviderName;
  readonly lagReplica?: NodeInfo;
  /** Stopped or paused nodes: queries to them would fail or hang. */
  protected readonly unavailable = new Set<string>();
  protected readonly promoted = new Set<string>();
  protected readonly delayed = new Set<string>();

  constructor(
    readonly primary: NodeInfo,
    readonly replicas: NodeInfo[],
    lagReplica: boolean,
  ) {
    if (lagReplica) this.lagReplica = replicas[replicas.length - 1];
  }

  get nodes(): NodeInfo[] {
    return [this.primary, ...this.replicas];
  }

  node(name: string): NodeInfo {
    const found = this.nodes.find((n) => n.name === name);
    if (!found) {
      throw new Error(`no node named ${JSON.stringify(name)}; nodes: ${this.nodes.map((n) => n.name).join(', ')}`);
    }
    return found;
  }

  query<T = any>(name: string, sql: string, params?: unknown[], options?: QueryOptions): Promise<T[]> {
    return queryNode<T>(this.node(name), sql, params, options);
  }

  async waitForReplication(timeoutMs = 15_000, nodes?: readonly string[]): Promise<void> {
    const targets = nodes
      ? nodes.map((name) => this.replica(name))
      : this.replicas.filter((r) => !this.unavailable.has(r.name) && !this.promoted.has(r.name) && !this.delayed.has(r.name));
    if (targets.length === 0) return;
    const lsn = await this.primaryTargetLsn();
    await Promise.all(targets.map((replica) => this.waitForReplay(replica, lsn, timeoutMs)));
  }

  async setApplyDelay(name: string, ms: number): Promise<void> {
    const replica = this.replica(name);
    if (!Number.isInteger(ms) || ms < 0) {
      throw new TypeError(`setApplyDelay ms must be a non-negative integer, got ${String(ms)}`);
    }
    await this.query(
      replica.name,
      ms > 0 ? `ALTER SYSTEM SET recovery_min_apply_delay = '${ms}ms'` : 'ALTER SYSTEM RESET recovery_min_apply_delay',
    );
    await this.query(replica.name, 'SELECT pg_reload_conf()');
    // The reload is asynchronous; new sessions see the value once the postmaster has it,
    // at the same moment it signals the startup process that applies WAL.
    await pollUntil(
      async () => {
        const rows = await this.query(replica.name, `SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'`);
        return rows[0]?.setting === String(ms);
      },
      { timeoutMs: 5000, what: `${replica.name} to reload recovery_min_apply_delay=${ms}ms` },
    );
    if (ms > 0) this.delayed.add(replica.name);
    else this.delayed.delete(replica.name);
  }

  abstract stop(name: string, mode?: StopMode): Promise<void>;
  abstract start(name: string): Promise<void>;
  abstract pause(name: string): Promise<void>;
  abstract resume(name: string): Promise<void>;
  abstract promote(name: string): Promise<void>;
  abstract destroy(): Promise<void>;

  /** The named node, which must be a replica. */
  protected replica(name: string): NodeInfo {
    const node = this.node(name);
    if (node.role !== 'replica') throw new Error(`${name} is the primary; this needs a replica`);
    return node;
  }

  /** Polls until `node` answers a query. */
  protected async waitUntilAnswering(node: NodeInfo, timeoutMs: number, describe?: () => string): Promise<void> {
    await pollUntil(async () => (await this.query(node.name, 'SELECT 1', [], { timeoutMs: 2000 })).length === 1, {
      timeoutMs,
      intervalMs: 50,
      what: `${node.name} to accept connections`,
      describe,
    });
  }

  /** Polls until `replica`'s WAL receiver streams from its primary. */
  protected async waitUntilStreaming(replica: NodeInfo, timeoutMs: number, describe?: () => string): Promise<void> {
    await pollUntil(
      async () => {
        const rows = await this.query(replica.name, 'SELECT status FROM pg_stat_wal_receiver', [], { timeoutMs: 2000 });
        return rows[0]?.status === 'streaming';
      },
      { timeoutMs, intervalMs: 50, what: `${replica.name} to stream from the primary`, describe },
    );
  }

  /** Polls until `node` has left recovery (after a promotion). */
  protected async waitUntilPromoted(node: NodeInfo, timeoutMs: number): Promise<void> {
    await pollUntil(
      async () => (await this.query(node.name, 'SELECT pg_is_in_recovery() AS r', [], { timeoutMs: 2000 }))[0]?.r === false,
      { timeoutMs, intervalMs: 50, what: `${node.name} to leave recovery` },
    );
  }

  // The target is the primary's *insert* position: everything committed so far ends at or
  // before it. Not pg_current_wal_lsn() (the write position): with synchronous_commit=off a
  // commit returns before its WAL is written, so the write position can predate it.
  // The insert position has one trap: when the last record ended exactly at a page
  // boundary it points past the next page's header, where no record will ever end, so a
  // replica's replay position would not reach it until the primary writes again.
  private async primaryTargetLsn(): Promise<string> {
    const [row] = await this.query(
      'primary',
      `SELECT pg_current_wal_insert_lsn()::text AS lsn,
              current_setting('wal_block_size')::bigint AS block,
              (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') AS segment`,
    );
    return recordBoundary(String(row?.lsn), BigInt(row?.block ?? 8192), BigInt(row?.segment ?? 16 * 1024 * 1024));
  }

  private async waitForReplay(replica: NodeInfo, lsn: string, timeoutMs: number): Promise<void> {
    let last = 'nothing yet';
    // One connection for the whole wait: a fresh one per 10 ms poll would cost more than the wait.
    await withNodeClient(
      replica,
      (client) =>
        pollUntil(
          async () => {
            const { rows } = await client.query(
              `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done,
                      pg_last_wal_replay_lsn()::text AS replayed, pg_last_wal_receive_lsn()::text AS received`,
              [lsn],
            );
            last = `replayed ${rows[0]?.replayed}, received ${rows[0]?.received}`;
            return rows[0]?.done === true;
          },
          { timeoutMs, intervalMs: 10, what: `${replica.name} to replay primary LSN ${lsn}`, describe: () => last },
        ),
      { timeoutMs: Math.max(timeoutMs, 2000) },
    );
  }
}
