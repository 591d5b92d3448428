import { nodeOfConnection } from '../route/node';
import type { RouteDecision } from '../route/router';
import type { Statement } from '../route/statement';
import type { FailedAttempt, SplitCore } from '../split-core';
import { assertCacheable } from './cache-methods';
import { describeBuilder } from './describe-builder';
import {
  emitStart, Runner, runCompiled,
  type BuilderInternals, type CompiledQuery, type KnexClient, type PooledConnection, type RunnerInternals,
} from './knex-internals';
import { statementIsTxControl } from './pg-errors';
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
    assertCacheable(this.builder);
    if (cb === RUN) {
      emitStart(this);
      this.compiled = this.builder.toSQL();
      return this.compiled;
    }
    return this.builder.toSQL();
  }

  private async execute(core: SplitCore, first: RouteDecision, statement: Statement, cb: Callback, params: unknown): Promise<unknown> {
    const runCb: Callback = cb === RUN ? (r) => runCompiled(r, (r as RoutingRunner).compiled!) : cb;
    const streaming = cb !== RUN;
    const bound = boundNodeOf(this.client, core) !== undefined;
    // The result cache answers reads it may answer before any connection is taken.
    const cache = core.resultCache;
    const cacheTicket = cache !== undefined && !streaming && first.access === 'read'
      ? cache.lookup(this.builder, statement, this.compiled!, first) : undefined;
    if (cacheTicket?.hit === true) return cacheTicket.value;

    let decision = first;
    for (let attempt = 1; ; attempt++) {
      const node = decision.node;
      let connection: PooledConnection;
      try {
        connection = await node.acquire();
      } catch (err) {
        core.noteNodeError(node, err, 'acquire');
        decision = await this.nextAttempt(core, { node, decision, statement, err, attempt, phase: 'acquire', streaming, bound });
        continue;
      }
      this.connection = connection;
      this.routeInfo = { node: node.name, role: node.role, reason: decision.reason };
      core.emitRoute(decision, statement, false);
      node.inFlight++;
      node.queries++;
      if (decision.access === 'write') node.writes++;
      else node.reads++;
      let failed = false;
      try {
        const result = await (streaming ? untilConnectionEnds(Promise.resolve(runCb(this, params)), connection, node.name) : runCb(this, params));
        if (decision.access === 'write' && !statementIsTxControl(statement.sql)) {
          const hooks = core.afterWrite({
            node, tables: decision.tables, broad: decision.tables.length === 0 || statement.kind === 'schema',
            connection, inTransaction: false, sql: statement.sql,
          });
          if (hooks !== undefined) await hooks;
        } else if (cacheTicket !== undefined && cacheTicket.hit === false && node.role === 'replica') {
          cacheTicket.store(result);
        }
        return result;
      } catch (err) {
        failed = true;
        node.errors++;
        core.noteNodeError(node, err, 'query');
        decision = await this.nextAttempt(core, { node, decision, statement, err, attempt, phase: 'query', streaming, bound });
        // knex rewrites `?` to `$n` in the compiled object while running it: compile afresh.
        if (cb === RUN) this.compiled = this.builder.toSQL();
      } finally {
        node.inFlight--;
        await node.release(connection);
        if (failed) this.connection = undefined;
      }
    }
  }

  // Asks the retry policies (misroute guard first, then health's) where a failed statement
  // runs next; rethrows the error (or the policy's replacement) when none retries it.
  private async nextAttempt(core: SplitCore, failure: FailedAttempt): Promise<RouteDecision> {
    for (const policy of core.retryPolicies) {
      const verdict = policy(failure);
      const v = verdict instanceof Promise ? await verdict : verdict;
      if (v === undefined) continue;
      if (v instanceof Error) throw v;
      core.retries++;
      return v;
    }
    throw failure.err;
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
    if (core !== undefined) {
      // Classified for the per-node read/write counts and the route event; memoized per SQL text.
      const statement = describeBuilder(this.builder, compiled);
      const c = core.router.classifyOnly(statement);
      if (c.access === 'write') node.writes++;
      else node.reads++;
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

/**
 * A stream whose connection dies mid-way never settles in knex + pg-query-stream: the
 * connection would stay checked out and `destroy()` would wait for it forever. Settle it
 * with an error instead (knex then emits it on the stream, since the runner drops the
 * connection on failure).
 */
function untilConnectionEnds(work: Promise<unknown>, connection: PooledConnection, nodeName: string): Promise<unknown> {
  const conn = connection as unknown as { once?: (e: string, f: (err?: unknown) => void) => void; removeListener?: (e: string, f: () => void) => void };
  if (typeof conn.once !== 'function') return work;
  let onEnd: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    onEnd = () => reject(Object.assign(new Error(`split-knex: the connection to ${nodeName} ended while streaming`), { code: 'ECONNRESET' }));
    conn.once!('end', onEnd);
  });
  return Promise.race([work, ended]).finally(() => conn.removeListener?.('end', onEnd!));
}
