import { debugLogger } from '../debug-log';
import type { Queryable } from '../background/background-link';
import type { Node } from '../route/node';
import { parseWalPosition } from '../wal-position';
import { REPLAYED_POSITION } from './lsn';

const debug = debugLogger('split-knex:cache');

const REPLAY_SQL = `select (${REPLAYED_POSITION})::text as lsn`;

interface NodeReplay {
  /** The node's role and the writer when this bound was learnt: a bound from before a failover means nothing after it. */
  role: Node['role'];
  writer: Node | undefined;
  lsn: bigint;
  polledAt: number;
  polling: boolean;
}

/** Options of {@link ReplayTracker}. */
export interface ReplayTrackerOptions {
  /** At most one poll of a node this often, in ms (default 5). */
  minIntervalMs?: number;
  /** A monotonic clock in ms (default `performance.now()`). */
  now?: () => number;
  /** The node writes go to now: a new one (a failover) voids every bound. */
  writer?: () => Node | undefined;
}

/**
 * Knows, per replica, a lower bound of the WAL position it has replayed, and refreshes it
 * on demand (at most one poll in flight per node, at most one every `minIntervalMs`). The
 * cache asks it before storing a replica's result: a replica that has not replayed the last
 * invalidating write of the read's tables may have answered with pre-write rows.
 *
 * @example
 * if (!tracker.hasReplayed(node, marks.lsn)) return; // not stored; a poll is on its way
 */
export class ReplayTracker {
  private readonly nodes = new Map<Node, NodeReplay>();
  private stopped = false;
  /** Replay positions asked of replicas so far (stats). */
  polls = 0;

  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly writer: () => Node | undefined;

  constructor(
    /** The node's background connection (never the application's pool). */
    private readonly link: (node: Node) => Queryable,
    options: ReplayTrackerOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 5;
    // Its own monotonic clock, not the cache's injectable one: a frozen test clock must not stop polls.
    this.now = options.now ?? (() => performance.now());
    this.writer = options.writer ?? (() => undefined);
  }

  /** True when `node` is known to have replayed `lsn`; otherwise starts a poll and answers false. */
  hasReplayed(node: Node, lsn: bigint): boolean {
    if (lsn <= 0n) return true;
    const state = this.stateOf(node);
    if (state.lsn >= lsn) return true;
    this.poll(node, state);
    return false;
  }

  /** The replay position last seen for `node` in its current role (0 when never polled). */
  replayed(node: Node): bigint {
    const state = this.nodes.get(node);
    return state === undefined || state.role !== node.role || state.writer !== this.writer() ? 0n : state.lsn;
  }

  /** Forgets what is known of a node that left (or joined again) at run time. */
  forget(node: Node): void {
    this.nodes.delete(node);
  }

  start(): void {
    this.stopped = false;
  }

  stop(): void {
    this.stopped = true;
  }

  // After a failover (a node's role changed, or the writer did) a node starts from nothing:
  // the old primary comes back rewound, a replica ahead of the promoted one rewinds, and
  // positions past the fork reuse the numbers. A poll in flight from before writes into
  // the replaced state, never into this one.
  private stateOf(node: Node): NodeReplay {
    let state = this.nodes.get(node);
    const writer = this.writer();
    if (state === undefined || state.role !== node.role || state.writer !== writer) {
      this.nodes.set(node, (state = { role: node.role, writer, lsn: 0n, polledAt: -Infinity, polling: false }));
    }
    return state;
  }

  private poll(node: Node, state: NodeReplay): void {
    if (state.polling || this.stopped || this.now() - state.polledAt < this.minIntervalMs) return;
    void this.pollNow(node, state);
  }

  private async pollNow(node: Node, state: NodeReplay): Promise<void> {
    if (state.polling) return;
    state.polling = true;
    state.polledAt = this.now();
    this.polls++;
    try {
      const res = await this.link(node).query(REPLAY_SQL);
      const lsn = parseWalPosition(res.rows[0]?.lsn);
      if (lsn !== undefined && lsn > state.lsn) state.lsn = lsn;
    } catch (err) {
      // A replica that cannot answer keeps its old bound: its results are simply not stored.
      debug('replay position of %s unknown: %s', node.name, (err as Error)?.message ?? err);
    } finally {
      state.polling = false;
    }
  }
}
