import { ConnectionResolver } from '../background/connection-resolver';
import type { KnexClient, PooledConnection } from '../knex/knex-internals';
import { acquireFromPool, poolFull, releaseToPool } from '../knex/node-pool';

/** Weight of one read in the moving average of a node's read times. */
const READ_MS_WEIGHT = 0.1;

/** Which role a node plays (its configured role, or the one discovered). */
export type NodeRole = 'primary' | 'replica';
/** Health of a node: `down` nodes get no traffic; `suspect` ones still do. */
export type NodeState = 'up' | 'suspect' | 'down';

/** What a bound instance (`db.primary`, `db.replica(name)`, `db.replica()`) is pinned to: one node, whichever node is the primary now, or any eligible replica. */
export type BoundTarget = Node | 'primary' | 'replica';

/** The mark a pooled connection carries so that release and pinning find its node. */
export const NODE_OF_CONNECTION = Symbol('split-knex:node');

/** The read-only view of a node that selectors, events and users see. */
export interface NodeInfo {
  readonly name: string;
  readonly role: NodeRole;
  readonly weight: number;
  readonly state: NodeState;
  /** Queries running on this node right now. */
  readonly inFlight: number;
}

/**
 * One database node: its own knex client and pool, and the counters `stats()` reports.
 *
 * @example
 * const conn = await node.acquire(); try { ... } finally { await node.release(conn) }
 */
export class Node implements NodeInfo {
  readonly name: string;
  /** The role from the configuration; `role` may differ after role discovery. */
  readonly configuredRole: NodeRole;
  role: NodeRole;
  /**
   * Relative share of reads. The configured primary has 1: it serves reads in that share
   * once it comes back as a replica after a failover.
   */
  readonly weight: number;
  state: NodeState = 'up';
  /**
   * A node listed as a replica whose probe answered out of recovery (a wrong URL, or a node
   * that was promoted): it takes no reads, since its data no longer follows the writer.
   */
  notStandby = false;
  /** Being drained after the topology dropped it: no new statements, in-flight ones finish. */
  retired = false;
  /** The knex client that owns this node's pool (for the primary: the facade's client). */
  client: KnexClient;
  /** The node's `connection`, shared by its pool and its background connection. */
  readonly resolver: ConnectionResolver;
  inFlight = 0;
  queries = 0;
  errors = 0;
  reads = 0;
  writes = 0;
  lastError: string | undefined;
  /**
   * What a read cost here, from asking this node's pool for a connection to the answer (pool
   * queueing included): a moving average in ms, undefined before the first read. `readAt`:
   * when the last one ended, on the `performance.now()` timeline.
   */
  readMs: number | undefined;
  readAt = -Infinity;

  constructor(name: string, role: NodeRole, weight: number, client: KnexClient, resolver: ConnectionResolver = new ConnectionResolver(undefined)) {
    this.name = name;
    this.configuredRole = role;
    this.role = role;
    this.weight = weight;
    this.client = client;
    this.resolver = resolver;
  }

  /** Takes a connection from this node's pool and marks it as this node's. */
  async acquire(): Promise<PooledConnection> {
    const connection = await acquireFromPool(this.client);
    connection[NODE_OF_CONNECTION] = this;
    return connection;
  }

  /** Returns a connection to this node's pool. */
  release(connection: PooledConnection): Promise<void> {
    return releaseToPool(this.client, connection);
  }

  /** Counts a statement that starts on this node (`inFlight` goes down when it settles). */
  began(access: 'read' | 'write'): void {
    this.inFlight++;
    this.queries++;
    if (access === 'write') this.writes++;
    else this.reads++;
  }

  /** Records one read's time here (`ms`, from asking the pool to the answer), which ended at `at`. */
  noteRead(ms: number, at: number): void {
    this.readMs = this.readMs === undefined ? ms : this.readMs + (ms - this.readMs) * READ_MS_WEIGHT;
    this.readAt = at;
  }

  /** True when every connection of this node's pool is in use: a statement sent now would queue. */
  poolFull(): boolean {
    return poolFull(this.client);
  }

  /** True when the node may take reads. */
  get available(): boolean {
    return this.state !== 'down' && !this.notStandby && !this.retired;
  }
}

/** The node a pooled connection came from, if split-knex acquired it. */
export function nodeOfConnection(connection: PooledConnection | undefined): Node | undefined {
  return connection === undefined ? undefined : (connection[NODE_OF_CONNECTION] as Node | undefined);
}
