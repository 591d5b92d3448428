import { BaseClient, type KnexClient, type PooledConnection } from './knex-internals';

/**
 * A node's pool, through knex's own client: every touch of knex's and tarn's pool internals
 * that split-knex needs (take, give back, count, swap), typed here and pinned by
 * test/unit/knex-seams.test.ts.
 *
 * @internal
 */

/**
 * Takes a connection from the client's pool with knex's base implementation (it reads
 * `this.pool` only), not the facade's routing override.
 *
 * @example
 * const conn = await acquireFromPool(node.client);
 */
export function acquireFromPool(client: KnexClient): Promise<PooledConnection> {
  return BaseClient.prototype.acquireConnection.call(client);
}

/**
 * Gives a connection back to the client's pool (knex's base implementation).
 *
 * @example
 * await releaseToPool(node.client, conn);
 */
export function releaseToPool(client: KnexClient, connection: PooledConnection): Promise<void> {
  return BaseClient.prototype.releaseConnection.call(client, connection);
}

/** A pool's occupancy, for `stats()`. */
export interface PoolCounts {
  used: number;
  free: number;
  pendingAcquires: number;
  pendingCreates: number;
}

/**
 * The client's pool occupancy (zeros when it has no pool: destroyed, or not initialized).
 *
 * @example
 * poolCounts(node.client) // { used: 1, free: 3, pendingAcquires: 0, pendingCreates: 0 }
 */
export function poolCounts(client: KnexClient): PoolCounts {
  const pool = client.pool;
  if (pool === undefined) return { used: 0, free: 0, pendingAcquires: 0, pendingCreates: 0 };
  return { used: pool.numUsed(), free: pool.numFree(), pendingAcquires: pool.numPendingAcquires(), pendingCreates: pool.numPendingCreates() };
}

/**
 * True when a statement sent to this client now would wait for a connection: none is free
 * and every one the pool may hold is in use or being opened. False without a pool.
 *
 * @example
 * poolFull(router.currentWriter.client) // true while every primary connection is busy
 */
export function poolFull(client: KnexClient): boolean {
  const pool = client.pool;
  if (pool === undefined || pool.numFree() > 0) return false;
  return pool.numUsed() + pool.numPendingCreates() >= pool.max;
}

/**
 * knex's pooled-connection id (`__knexUid`), stable for the life of the connection.
 *
 * @example
 * connectionId(conn) // '__knexUid3'
 */
export function connectionId(connection: PooledConnection): string | undefined {
  return connection.__knexUid;
}

// The parts of a tarn pool (knex's pool) a swap needs.
interface TarnPool {
  release(connection: PooledConnection): boolean;
  destroy(): Promise<unknown>;
  used?: Array<{ resource: PooledConnection & { end?: () => Promise<void> } }>;
}

/**
 * Replaces a node's pool with a fresh one, so that no connection opened before the node
 * failed is ever handed out again. The old pool is destroyed in the background: its idle
 * connections are closed, and connections still checked out are released to it (the new
 * pool passes them on) and then closed. With `closeInFlight`, checked-out connections are
 * ended at once: their queries fail with a connection error (a read is then retried on
 * another node) instead of hanging on a server that no longer answers.
 *
 * Pools split-knex does not own (`connectionPool`) and destroyed ones are left alone.
 *
 * @example
 * swapPool(node.client, { closeInFlight: node.role === 'replica' });
 */
export function swapPool(client: KnexClient, options: { closeInFlight: boolean }): boolean {
  const old = client.pool as unknown as TarnPool | undefined;
  if (old === undefined || client.config.connectionPool !== undefined) return false;
  client.pool = undefined;
  client.initializePool(client.config);
  const fresh = client.pool as unknown as TarnPool | undefined;
  if (fresh === undefined) {
    // Nothing replaced it (should not happen): keep the old one rather than break the node.
    client.pool = old as unknown as KnexClient['pool'];
    return false;
  }
  const release = fresh.release.bind(fresh);
  // knex releases to `client.pool`, which is now the fresh pool: hand it the old pool's connections back.
  fresh.release = (connection) => release(connection) || old.release(connection);
  if (options.closeInFlight) {
    for (const used of old.used ?? []) used.resource.end?.().catch(() => undefined);
  }
  old.destroy().catch(() => undefined);
  return true;
}
