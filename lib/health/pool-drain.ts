import type { KnexClient, PooledConnection } from '../knex/knex-internals';

// The parts of a tarn pool (knex's pool) a drain needs: typed here, in one place.
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
 * Pools split-knex does not own (`connectionPool`) are left alone.
 *
 * @example
 * drainPool(node.client, { closeInFlight: node.role === 'replica' });
 */
export function drainPool(client: KnexClient, options: { closeInFlight: boolean }): boolean {
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
