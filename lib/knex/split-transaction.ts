import { nodeOfConnection, type Node } from '../route/node';
import { openTransaction } from '../route/open-transactions';
import { TransactionWrites } from '../route/transaction-writes';
import { TransactionPG, type KnexClient, type PooledConnection, type TransactionInternals } from './knex-internals';
import { boundNodeOf, pipelineOf, TRANSACTION_OF_CONNECTION, type OpenTransaction } from './split-client-marks';

/**
 * knex's PostgreSQL transaction, pinned to one node for its whole life: the primary, or a
 * replica for `{ readOnly: true }` (except `serializable`, which a standby refuses). The
 * pipeline records what it writes on its connection; at COMMIT the after-commit effects
 * (positions, cache invalidation, catalog) run before *any* way of committing resolves —
 * the callback's return, `await trx.commit()`, a transaction provider, the outer commit
 * after released savepoints — and never on ROLLBACK.
 *
 * @internal
 */
export class SplitTransaction extends (TransactionPG as unknown as new (
  client: KnexClient, container: unknown, config: unknown, outerTx: unknown,
) => TransactionInternals) {
  private open: OpenTransaction | undefined;
  private splitNode: Node | undefined;
  private readonly isolation: string | undefined;

  constructor(client: KnexClient, container: unknown, config: unknown, outerTx: unknown) {
    // Before super(): knex schedules the callback there, in the async context this enters.
    const opened = openTransaction(pipelineOf(client));
    super(client, container, config, outerTx);
    if (opened !== undefined) this._promise = opened.until(this, this._promise);
    this.isolation = (config as { isolationLevel?: string } | undefined)?.isolationLevel;
  }

  /** Mirrors knex's Transaction#acquireConnection, choosing the node first. */
  async acquireConnection(config: { connection?: PooledConnection } | undefined, cb: (c: PooledConnection) => Promise<unknown>): Promise<unknown> {
    const configConnection = config?.connection;
    const connection = configConnection ?? (await this.takeConnection());
    this.splitNode = nodeOfConnection(connection);
    const pipeline = pipelineOf(this.client);
    // A top-level transaction opens a write record on its connection; nested ones (savepoints)
    // run on the same connection and add to it.
    const marked = pipeline !== undefined && connection[TRANSACTION_OF_CONNECTION] === undefined;
    if (marked) connection[TRANSACTION_OF_CONNECTION] = this.open = { pipeline, writes: new TransactionWrites() };
    try {
      connection.__knexTxId = this.txid;
      return await cb(connection);
    } finally {
      if (marked) delete connection[TRANSACTION_OF_CONNECTION];
      if (configConnection === undefined) {
        delete connection.__knexTxId;
        await this.client.releaseConnection(connection);
      }
    }
  }

  private async takeConnection(): Promise<PooledConnection> {
    const pipeline = pipelineOf(this.client);
    if (this.client.transacting || pipeline === undefined) return this.client.acquireConnection();
    pipeline.lifecycle.enter();
    const router = pipeline.router;
    const bound = boundNodeOf(this.client);
    let node: Node;
    if (bound === 'primary') node = router.writer();
    else if (bound !== undefined && bound !== 'replica') node = bound;
    else if ((this.readOnly || bound === 'replica') && !/^serializable$/i.test(this.isolation ?? '')) {
      const d = router.routeReadOnlyTransaction();
      node = (d instanceof Promise ? await d : d).node;
    } else node = router.writer();
    return node.acquire();
  }

  override commit(conn: PooledConnection, value: unknown): Promise<unknown> {
    const open = this.open;
    const node = this.splitNode;
    // Nothing that ran on a replica may change what we believe about the primary.
    if (open === undefined || open.writes.empty || node === undefined || node.role !== 'primary' || this._resolver === undefined) {
      return super.commit(conn, value);
    }
    // knex calls _resolver only once COMMIT succeeded. Hold the transaction's promise until
    // the effects have run, and make commit()'s own promise wait for them too, so that a read
    // after `await trx.commit()` or `await db.transaction(…)` sees a clean cache and the new position.
    const resolve = this._resolver;
    let effects: Promise<void> | undefined;
    this._resolver = (v: unknown) => {
      effects = Promise.resolve(open.pipeline.afterCommit({ node, inTransaction: true, ...open.writes.facts() }, conn)).then(() => resolve(v));
    };
    return super.commit(conn, value).then(async (res) => {
      if (effects !== undefined) await effects;
      return res;
    });
  }
}
