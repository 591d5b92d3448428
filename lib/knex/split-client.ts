import type { Pipeline } from '../pipeline';
import { nodeOfConnection, type Node } from '../route/node';
import { cachingQueryBuilder, cachingRaw } from './cache-methods';
import { ClientPG, type BuilderInternals, type KnexClient, type PooledConnection, type RunnerInternals } from './knex-internals';
import { RoutingRunner, SETTLED_STREAM } from './routing-runner';
import { BOUND, boundNodeOf, PIPELINE, pipelineOf } from './split-client-marks';
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
    return skipOwnFrame(cachingQueryBuilder(this));
  }

  raw(...args: unknown[]): BuilderInternals {
    return skipOwnFrame(cachingRaw(this, args));
  }

  override transaction(container: unknown, config?: unknown, outerTx?: unknown): unknown {
    return new SplitTransaction(this, container, config, outerTx);
  }

  // Used by code that takes a connection itself (knex's migrator lock, users' `client.acquireConnection()`):
  // the writer, or the bound node of `db.primary` / `db.replica(name)`.
  override async acquireConnection(): Promise<PooledConnection> {
    const pipeline = pipelineOf(this);
    if (pipeline === undefined) return super.acquireConnection();
    pipeline.lifecycle.enter();
    const bound = boundNodeOf(this);
    if (bound === 'replica') {
      const d = pipeline.router.routeReadOnlyTransaction();
      return (d instanceof Promise ? await d : d).node.acquire();
    }
    return (bound === undefined || bound === 'primary' ? pipeline.router.writer() : bound).acquire();
  }

  // knex's stream releases `runner.connection` on 'close'; a routed stream's connection was
  // released by the pipeline when its statement settled (see SETTLED_STREAM).
  override releaseConnection(connection: PooledConnection): Promise<void> {
    if (connection === SETTLED_STREAM) return Promise.resolve();
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

  // `knex.initialize()` after `destroy()`: every node's pool again, and statements may run.
  override initializePool(config?: unknown): void {
    super.initializePool(config);
    const pipeline = pipelineOf(this);
    if (pipeline === undefined || (this as { [BOUND]?: unknown })[BOUND] !== undefined) return;
    for (const r of replicasOf(pipeline)) if (r.client.pool === undefined) r.client.initializePool(r.client.config);
    pipeline.lifecycle.initialize();
  }

  // Like knex, the instance counts as destroyed from the moment destroy() is called: the
  // lifecycle refuses statements at once, and every pool goes in parallel with the
  // background work (timers, probe and poll connections, connects in flight).
  override async destroy(callback?: (err?: unknown) => void): Promise<void> {
    const pipeline = pipelineOf(this);
    if (pipeline === undefined || (this as { [BOUND]?: unknown })[BOUND] !== undefined) return super.destroy(callback);
    const work = Promise.all([
      pipeline.lifecycle.destroy(),
      ...replicasOf(pipeline).map((r) => r.client.destroy()),
      super.destroy(),
    ]);
    try {
      await work;
    } catch (err) {
      if (typeof callback === 'function') return callback(err);
      throw err;
    }
    if (typeof callback === 'function') callback();
  }
}

// With `asyncStackTraces`, knex's builders keep an Error and cut a fixed number of frames
// off it (its own constructors); our builder helper adds one frame more: cut it too, so the
// stack starts at the caller's frame as in knex.
function skipOwnFrame(builder: BuilderInternals): BuilderInternals {
  const saved = (builder as { _asyncStack?: { lines: number } })._asyncStack;
  if (saved !== undefined) saved.lines += 1;
  return builder;
}

function replicasOf(pipeline: Pipeline): readonly Node[] {
  return pipeline.router.replicas;
}

export { PIPELINE, BOUND };
