import { nodeOfConnection } from '../route/node';
import type { RouteDecision } from '../route/router';
import { builderSource } from './builder-source';
import { assertCacheable } from './cache-methods';
import { describeBuilder } from './describe-builder';
import {
  emitStart, Runner, runCompiled,
  type BuilderInternals, type CompiledQuery, type KnexClient, type PooledConnection, type RunnerInternals,
} from './knex-internals';
import { boundNodeOf, pipelineOf, transactionOf } from './split-client-marks';

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
 * knex's Runner, handing each statement to the instance's pipeline (lib/pipeline.ts) before
 * a connection is taken (knex's `acquireConnection()` takes no arguments, so this is the
 * seam). It translates between knex's runner and the pipeline: compiles once, describes the
 * builder, and runs the compiled statement on the connection the pipeline chose.
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
    const pipeline = pipelineOf(this.client);
    if (pipeline === undefined) return super.ensureConnection(cb, params);

    // After destroy() the statement fails before it compiles or emits anything.
    pipeline.lifecycle.enter();
    const compiled = this.prepare(cb);
    const runCb: Callback = cb === RUN ? (r) => runCompiled(r, (r as RoutingRunner).compiled!) : cb;
    return pipeline.run({
      statement: describeBuilder(this.builder, compiled),
      bound: boundNodeOf(this.client),
      streaming: cb !== RUN,
      source: () => builderSource(this.builder, compiled),
      execute: (connection, decision) => this.runOn(connection, decision, runCb, params),
      retrying: () => {
        this.connection = undefined;
        // knex rewrites `?` to `$n` in the compiled object while running it: compile afresh.
        if (cb === RUN) this.compiled = this.builder.toSQL();
      },
    });
  }

  private runOn(connection: PooledConnection, decision: RouteDecision, cb: Callback, params: unknown): Promise<unknown> {
    this.connection = connection;
    const node = decision.node;
    this.routeInfo = { node: node.name, role: node.role, reason: decision.reason };
    const work = Promise.resolve(cb(this, params));
    // A failed attempt drops the connection (as knex's runner does): knex's stream() then
    // emits the error on the stream, and the pool gets the connection back once.
    return (cb === RUN ? work : untilConnectionEnds(work, connection, node.name)).catch((err: unknown) => {
      this.connection = undefined;
      throw err;
    });
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

  // Inside a transaction, or with `.connection(conn)`: the connection decides the node.
  private async runPinned(cb: Callback, params: unknown, pinned: PooledConnection | undefined): Promise<unknown> {
    const connection = pinned ?? (await this.client.acquireConnection());
    this.connection = connection;
    const node = nodeOfConnection(connection);
    const tx = transactionOf(connection);
    const pipeline = tx?.pipeline ?? pipelineOf(this.client);
    if (node === undefined || pipeline === undefined) return cb === RUN ? runCompiled(this, this.prepare(cb)) : cb(this, params);
    const inTransaction = this.client.transacting === true;
    const reason = inTransaction ? 'transaction' : 'explicit connection';
    this.routeInfo = { node: node.name, role: node.role, reason };
    const compiled = this.prepare(cb);
    return pipeline.runPinned({
      statement: describeBuilder(this.builder, compiled),
      node,
      reason,
      writes: inTransaction ? tx?.writes : undefined,
      execute: () => Promise.resolve(cb === RUN ? runCompiled(this, compiled) : cb(this, params)),
    });
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
