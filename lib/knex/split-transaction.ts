import { nodeOfConnection, type Node } from '../route/node';
import type { SplitCore } from '../split-core';
import { TransactionPG, type CompiledQuery, type KnexClient, type PooledConnection, type TransactionInternals } from './knex-internals';
import { statementIsTxControl } from './pg-errors';
import { boundNodeOf, coreOf } from './split-client-marks';

/**
 * knex's PostgreSQL transaction, pinned to one node for its whole life: the primary, or a
 * replica for `{ readOnly: true }`. It collects what the transaction wrote and runs the
 * write hooks (sticky windows, LSN, cache invalidation) at COMMIT — before the caller's
 * `await` resumes — and never on ROLLBACK.
 *
 * @internal
 */
export class SplitTransaction extends (TransactionPG as unknown as new (
  client: KnexClient, container: unknown, config: unknown, outerTx: unknown,
) => TransactionInternals) {
  private writtenTables: Set<string> | undefined;
  private broadWrite = false;
  // The statements that made the write broad (DDL, unknown tables): hooks such as the catalog read them.
  private broadSql: string[] | undefined;
  private splitNode: Node | undefined;

  constructor(client: KnexClient, container: unknown, config: unknown, outerTx: unknown) {
    super(client, container, config, outerTx);
    // Nested transactions forward their queries to the outer one, so the top level sees all.
    if (outerTx === null || outerTx === undefined) this.on('query', (obj: CompiledQuery) => this.noteQuery(obj));
  }

  /** Mirrors knex's Transaction#acquireConnection, choosing the node first. */
  async acquireConnection(config: { connection?: PooledConnection } | undefined, cb: (c: PooledConnection) => Promise<unknown>): Promise<unknown> {
    const configConnection = config?.connection;
    const connection = configConnection ?? (await this.takeConnection());
    this.splitNode = nodeOfConnection(connection);
    try {
      connection.__knexTxId = this.txid;
      return await cb(connection);
    } finally {
      if (configConnection === undefined) {
        delete connection.__knexTxId;
        await this.client.releaseConnection(connection);
      }
    }
  }

  private async takeConnection(): Promise<PooledConnection> {
    const core = coreOf(this.client);
    if (this.client.transacting || core === undefined) return this.client.acquireConnection();
    const bound = boundNodeOf(this.client);
    let node: Node;
    if (bound === 'primary') node = core.router.writer();
    else if (bound !== undefined && bound !== 'replica') node = bound;
    else if (this.readOnly || bound === 'replica') {
      const d = core.router.routeReadOnlyTransaction();
      node = (d instanceof Promise ? await d : d).node;
    } else node = core.router.writer();
    return node.acquire();
  }

  override commit(conn: PooledConnection, value: unknown): Promise<unknown> {
    const core = this.splitNode?.core;
    if (core !== undefined && (this.writtenTables !== undefined || this.broadWrite) && this._resolver !== undefined) {
      const resolve = this._resolver;
      const node = this.splitNode!;
      // knex calls _resolver only once COMMIT succeeded: run the hooks first, so a read
      // after `await db.transaction(...)` already sees the sticky window and a clean cache.
      this._resolver = (v: unknown) => {
        let hooks: void | Promise<void> = undefined;
        try {
          hooks = core.afterWrite({
            node, tables: [...(this.writtenTables ?? [])], broad: this.broadWrite, connection: conn, inTransaction: true,
            sql: this.broadSql?.join(';\n'),
          });
        } catch (err) {
          node.client.logger.warn(`split-knex: after-commit hook failed: ${String(err)}`);
        }
        if (hooks instanceof Promise) {
          hooks.then(() => resolve(v), (err: unknown) => {
            node.client.logger.warn(`split-knex: after-commit hook failed: ${String(err)}`);
            resolve(v);
          });
        } else resolve(v);
      };
    }
    return super.commit(conn, value);
  }

  private noteQuery(obj: CompiledQuery): void {
    const core: SplitCore | undefined = this.splitNode?.core;
    if (core === undefined || core.writeHooks.length === 0 || typeof obj?.sql !== 'string') return;
    if (statementIsTxControl(obj.sql)) return;
    const c = core.classifier.classify(obj.sql, core.classifyOptions(true));
    if (c.target === 'replica') return;
    if (c.tables.length === 0 || /^\s*(create|alter|drop|truncate|comment|grant|revoke)\b/i.test(obj.sql)) {
      this.broadWrite = true;
      (this.broadSql ??= []).push(obj.sql);
    }
    this.writtenTables ??= new Set();
    for (const t of c.tables) this.writtenTables.add(t);
  }
}
