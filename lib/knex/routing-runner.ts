import type { Node } from '../route/node';
import { nodeOfConnection } from '../route/node';
import type { RouteDecision } from '../route/router';
import type { Statement } from '../route/statement';
import type { SplitCore } from '../split-core';
import { describeBuilder } from './describe-builder';
import {
  Runner, runCompiled,
  type BuilderInternals, type CompiledQuery, type KnexClient, type PooledConnection, type RunnerInternals,
} from './knex-internals';
import { isMisrouteError, statementIsTxControl } from './pg-errors';
import { boundNodeOf, coreOf } from './split-client-marks';

type Callback = (runner: RunnerInternals, params?: unknown) => unknown;

/** Marks `run()`'s callback so `ensureConnection` knows it may emit `start` and compile once. */
const RUN: Callback = (runner) => runCompiled(runner, (runner as RoutingRunner).compiled ?? runner.builder.toSQL());

/** The route info carried on every query object, so knex's events say where it ran. */
export interface QueryRouteInfo {
  node: string;
  role: 'primary' | 'replica';
  reason: string;
}

/**
 * knex's Runner with routing: picks the node before a connection is taken (knex's
 * `acquireConnection()` takes no arguments, so this is the seam), runs the statement on
 * that node's pool, retries a misrouted read on the primary, and tells the write hooks.
 *
 * @internal
 */
export class RoutingRunner extends (Runner as unknown as new (client: KnexClient, builder: BuilderInternals) => RunnerInternals) {
  compiled: CompiledQuery | CompiledQuery[] | undefined;
  private routeInfo: QueryRouteInfo | undefined;

  override async run(): Promise<unknown> {
    try {
      const res = await this.ensureConnection(RUN);
      this.builder.emit('end');
      return res;
    } catch (err) {
      if ((this.builder as { _events?: { error?: unknown } })._events?.error) this.builder.emit('error', err);
      throw err;
    }
  }

  override query(obj: CompiledQuery): Promise<unknown> {
    if (this.routeInfo !== undefined && obj !== null && typeof obj === 'object') obj.splitKnex = this.routeInfo;
    return super.query(obj);
  }

  override async ensureConnection(cb: Callback, params?: unknown): Promise<unknown> {
    const pinned = this.builder._connection ?? this.connection;
    if (pinned !== undefined || this.client.transacting) return this.runPinned(cb, params, pinned);
    const core = coreOf(this.client);
    if (core === undefined) return super.ensureConnection(cb, params);

    const compiled = this.prepare(cb);
    const statement = describeBuilder(this.builder, compiled);
    const routed = core.router.route(statement, boundNodeOf(this.client, core));
    const decision = routed instanceof Promise ? await routed : routed;
    return this.execute(core, decision, statement, cb, params);
  }

  // knex emits `start` before it compiles (listeners may still change the builder), so we do too.
  private prepare(cb: Callback): CompiledQuery | CompiledQuery[] {
    if (cb === RUN) {
      this.client.emit('start', this.builder);
      this.builder.emit('start', this.builder);
      this.compiled = this.builder.toSQL();
      return this.compiled;
    }
    return this.builder.toSQL();
  }

  private async execute(core: SplitCore, first: RouteDecision, statement: Statement, cb: Callback, params: unknown): Promise<unknown> {
    const runCb: Callback = cb === RUN ? (r) => runCompiled(r, (r as RoutingRunner).compiled!) : cb;
    let decision = first;
    let retried = false;
    for (;;) {
      const node = decision.node;
      const connection = await node.acquire();
      this.connection = connection;
      this.routeInfo = { node: node.name, role: node.role, reason: decision.reason };
      core.emitRoute(decision, statement, false);
      node.inFlight++;
      node.queries++;
      if (decision.access === 'write') node.writes++;
      else node.reads++;
      let failed = false;
      try {
        const result = await runCb(this, params);
        if (decision.access === 'write' && !statementIsTxControl(statement.sql)) {
          const hooks = core.afterWrite({
            node, tables: decision.tables, broad: decision.tables.length === 0 || statement.kind === 'schema',
            connection, inTransaction: false,
          });
          if (hooks !== undefined) await hooks;
        }
        return result;
      } catch (err) {
        failed = true;
        node.errors++;
        const next = this.retryTarget(core, node, decision, statement, err, retried, params);
        if (next === undefined) throw err;
        retried = true;
        decision = next;
        // knex rewrites `?` to `$n` in the compiled object while running it: compile afresh.
        if (cb === RUN) this.compiled = this.builder.toSQL();
      } finally {
        node.inFlight--;
        await node.release(connection);
        if (failed) this.connection = undefined;
      }
    }
  }

  // A read a replica refused as read-only (25006) is a misroute: count it, say it, and run
  // it once on the primary. Never for streams (rows may have been sent) or bound builders.
  private retryTarget(
    core: SplitCore, node: Node, decision: RouteDecision, statement: Statement, err: unknown, retried: boolean, params: unknown,
  ): RouteDecision | undefined {
    if (retried || node.role !== 'replica' || !isMisrouteError(err)) return undefined;
    const canRetry = params === undefined && boundNodeOf(this.client, core) === undefined && core.routing.retryMisroutes;
    core.noteMisroute(node, statement.sql, err as { code?: string; message?: string }, canRetry);
    if (!canRetry) return undefined;
    core.retries++;
    return { node: core.router.writer(), access: 'write', reason: `misroute retry: ${node.name} refused (${(err as { code?: string }).code})`, tables: decision.tables };
  }

  // Inside a transaction, or with `.connection(conn)`: the connection decides the node.
  private async runPinned(cb: Callback, params: unknown, pinned: PooledConnection | undefined): Promise<unknown> {
    const connection = pinned ?? (await this.client.acquireConnection());
    this.connection = connection;
    const node = nodeOfConnection(connection);
    if (node === undefined) return cb === RUN ? runCompiled(this, this.prepare(cb)) : cb(this, params);
    const reason = this.client.transacting ? 'transaction' : 'explicit connection';
    this.routeInfo = { node: node.name, role: node.role, reason };
    const compiled = this.prepare(cb);
    const core = node.core;
    if (core !== undefined && core.emitter !== undefined && core.emitter.listenerCount('route') > 0) {
      const statement = describeBuilder(this.builder, compiled);
      const c = core.router.classifyOnly(statement);
      core.emitRoute({ node, access: c.access, reason, tables: c.tables }, statement, this.client.transacting === true);
    }
    node.inFlight++;
    node.queries++;
    try {
      return await (cb === RUN ? runCompiled(this, compiled) : cb(this, params));
    } catch (err) {
      node.errors++;
      throw err;
    } finally {
      node.inFlight--;
    }
  }
}
