import { nodeOfConnection } from '../route/node';
import { cachingQueryBuilder, cachingRaw } from './cache-methods';
import { ClientPG, type BuilderInternals, type KnexClient, type PooledConnection, type RunnerInternals } from './knex-internals';
import { RoutingRunner } from './routing-runner';
import { BOUND, boundNodeOf, CORE, coreOf } from './split-client-marks';
import { SplitTransaction } from './split-transaction';

/**
 * The facade's knex client: knex's own PostgreSQL client (it compiles every builder and
 * owns the primary's pool, so `db.client.config` hooks and events work as in knex) with
 * routing at its `runner()` seam and node-aware connection handling.
 *
 * @internal
 */
export class SplitClient extends (ClientPG as unknown as new (config: unknown) => KnexClient) {
  override runner(builder: BuilderInternals): RunnerInternals {
    return new RoutingRunner(this, builder);
  }

  // Builders of a splitKnex instance carry `.cache()` / `.noCache()` (see cache-methods.ts).
  queryBuilder(): BuilderInternals {
    return cachingQueryBuilder(this);
  }

  raw(...args: unknown[]): BuilderInternals {
    return cachingRaw(this, args);
  }

  override transaction(container: unknown, config?: unknown, outerTx?: unknown): unknown {
    return new SplitTransaction(this, container, config, outerTx);
  }

  // Used by code that takes a connection itself (knex's migrator lock, users' `client.acquireConnection()`):
  // the writer, or the bound node of `db.primary` / `db.replica(name)`.
  override async acquireConnection(): Promise<PooledConnection> {
    const core = coreOf(this);
    if (core === undefined) return super.acquireConnection();
    const bound = boundNodeOf(this);
    if (bound === 'replica') {
      const d = core.router.routeReadOnlyTransaction();
      return (d instanceof Promise ? await d : d).node.acquire();
    }
    return (bound === undefined || bound === 'primary' ? core.router.writer() : bound).acquire();
  }

  override releaseConnection(connection: PooledConnection): Promise<void> {
    const node = nodeOfConnection(connection);
    return node === undefined ? super.releaseConnection(connection) : node.release(connection);
  }

  // knex cancels by opening a fresh connection with this client's settings: it must be the
  // node the query runs on, not the primary.
  override cancelQuery(connection: PooledConnection): Promise<unknown> {
    const node = nodeOfConnection(connection);
    if (node === undefined || node.client instanceof SplitClient) return super.cancelQuery(connection);
    return node.client.cancelQuery(connection);
  }

  override initializePool(config?: unknown): void {
    super.initializePool(config);
    const core = coreOf(this);
    if (core === undefined || (this as { [BOUND]?: unknown })[BOUND] !== undefined) return;
    for (const r of core.replicas) if (r.client.pool === undefined) r.client.initializePool(r.client.config);
    core.start();
  }

  override async destroy(callback?: (err?: unknown) => void): Promise<void> {
    const core = coreOf(this);
    if (core !== undefined) {
      await core.stop();
      await Promise.all(core.replicas.map((r) => r.client.destroy()));
    }
    return super.destroy(callback);
  }
}

export { CORE, BOUND };
