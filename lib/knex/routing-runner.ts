import { nodeOfConnection } from '../route/node';
import type { RouteDecision } from '../route/router';
import { builderSource } from './builder-source';
import { assertCacheable } from './cache-methods';
import { describeBuilder } from './describe-builder';
import {
  emitStart, Runner, runCompiled, streamOn, untilIdle,
  type BuilderInternals, type CompiledQuery, type KnexClient, type PooledConnection, type RunnerInternals,
  type StreamInternals, type StreamParams,
} from './knex-internals';
import { boundNodeOf, pipelineOf, transactionOf } from './split-client-marks';
import type { StatementRun } from '../pipeline';
import type { BoundTarget } from '../route/node';
import type { Statement } from '../route/statement';
import type { StatementSource } from '../subsystem';

type Callback = (runner: RunnerInternals, params?: unknown) => unknown;

/** Marks `run()`'s callback so `ensureConnection` knows it may emit `start` and compile once. */
const RUN: Callback = (runner) => runCompiled(runner, (runner as RoutingRunner).compiled ?? runner.builder.toSQL());

/**
 * What a streaming runner holds in `runner.connection` once its statement settled: knex's
 * stream then neither emits the error again (it only emits errors raised before a
 * connection was taken) nor releases a connection on 'close' (the pipeline released it).
 * `SplitClient.releaseConnection` ignores it. @internal
 */
export const SETTLED_STREAM: PooledConnection = Object.freeze({}) as PooledConnection;

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
    const stream = streamOf(cb, params);
    const run = new RoutedStatement(this, cb, params, compiled, stream);
    const settled = pipeline.run(run);
    if (stream === undefined) return settled;
    // The consumer sees 'end' only once the pipeline settled: a streamed write's after-commit
    // effects (position, cache invalidation) ran before a read that follows 'end'.
    holdEndUntil(stream, settled);
    try {
      return await settled;
    } finally {
      if (run.handedOver) this.connection = SETTLED_STREAM;
    }
  }

  /** @internal Runs a routed statement on the connection the pipeline chose (see {@link RoutedStatement}). */
  executeOn(connection: PooledConnection, decision: RouteDecision, cb: Callback, params: unknown, stream: unknown): Promise<unknown> {
    return stream === undefined
      ? this.runOn(connection, decision, cb, params)
      : this.streamOn(connection, decision, params as StreamParams);
  }

  // A stream runs on a connection the pipeline owns until the statement settles: not in
  // `this.connection`, which knex's stream releases on 'close' (see SETTLED_STREAM).
  private streamOn(connection: PooledConnection, decision: RouteDecision, params: StreamParams): Promise<unknown> {
    const node = decision.node;
    this.routeInfo = { node: node.name, role: node.role, reason: decision.reason };
    const streamed = streamOn(this, connection, params).then(async (res) => {
      await untilIdle(connection);
      return res;
    });
    const work = untilStreamCloses(streamed, params.stream);
    return untilConnectionEnds(work, connection, node.name, params.stream);
  }

  private runOn(connection: PooledConnection, decision: RouteDecision, cb: Callback, params: unknown): Promise<unknown> {
    this.connection = connection;
    const node = decision.node;
    this.routeInfo = { node: node.name, role: node.role, reason: decision.reason };
    // run()'s callback runs what was compiled for routing: compiled once per attempt.
    return Promise.resolve(cb === RUN ? runCompiled(this, this.compiled!) : cb(this, params));
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
      execute: () => {
        if (cb === RUN) return Promise.resolve(runCompiled(this, compiled));
        const stream = streamOf(cb, params);
        const work = Promise.resolve(cb(this, params));
        return stream === undefined ? work : untilStreamCloses(work, stream);
      },
    });
  }
}

// knex's timeout path: a KnexTimeoutError, or the cancel's own error with knex's `timeout` added.
function isKnexTimeout(err: unknown): boolean {
  const e = err as { name?: unknown; timeout?: unknown; sql?: unknown } | null;
  return e?.name === 'KnexTimeoutError' || (typeof e?.timeout === 'number' && typeof e.sql === 'string');
}

function streamOf(cb: Callback, params: unknown): StreamInternals | undefined {
  if (cb === RUN) return undefined;
  const stream = (params as Partial<StreamParams> | undefined)?.stream;
  return stream !== undefined && typeof stream.once === 'function' ? stream : undefined;
}

// knex's stream ends (push(null), then 'end') after `_flush` calls back: hold that until
// `settled`. Its failure was already emitted on the stream by knex: never a second time here.
function holdEndUntil(stream: StreamInternals, settled: Promise<unknown>): void {
  const flush = stream._flush;
  stream._flush = (done) => {
    const go = (): void => (flush === undefined ? done() : flush.call(stream, done));
    settled.then(go, go);
  };
}

/**
 * A stream the consumer destroys part-way never settles in knex + pg-query-stream (the
 * destroyed query stream emits neither 'end' nor 'error'): settle it when the stream closes,
 * so the statement counts as done, `inFlight` goes down and its listeners go away. The
 * cursor's close is queued on the connection before anything that runs on it next.
 */
function untilStreamCloses(work: Promise<unknown>, stream: StreamInternals): Promise<unknown> {
  if (stream.destroyed) return Promise.race([work, Promise.resolve(undefined)]);
  let onClose: (() => void) | undefined;
  const closed = new Promise<undefined>((resolve) => {
    onClose = () => resolve(undefined);
    stream.once('close', onClose);
  });
  return Promise.race([work, closed]).finally(() => stream.removeListener('close', onClose!));
}

/**
 * A stream whose connection dies mid-way, while the consumer is not reading, never settles
 * in knex + pg-query-stream: the connection would stay checked out and `destroy()` would
 * wait for it forever. Settle it with an error instead, and destroy the stream with it
 * (knex would not emit it: the connection had been taken).
 */
function untilConnectionEnds(work: Promise<unknown>, connection: PooledConnection, nodeName: string, stream: StreamInternals): Promise<unknown> {
  const conn = connection as unknown as { once?: (e: string, f: (err?: unknown) => void) => void; removeListener?: (e: string, f: () => void) => void };
  if (typeof conn.once !== 'function') return work;
  let onEnd: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    onEnd = () => {
      const err = Object.assign(new Error(`split-knex: the connection to ${nodeName} ended while streaming`), { code: 'ECONNRESET' });
      if (!stream.destroyed) stream.destroy(err);
      reject(err);
    };
    conn.once!('end', onEnd);
  });
  return Promise.race([work, ended]).finally(() => conn.removeListener?.('end', onEnd!));
}

/**
 * One routed statement as the pipeline sees it ({@link StatementRun}), built per statement:
 * a class rather than an object of closures, so the hot path allocates one object.
 *
 * @internal
 */
class RoutedStatement implements StatementRun {
  readonly statement: Statement;
  readonly bound: BoundTarget | undefined;
  readonly streaming: boolean;
  handedOver = false;

  constructor(
    private readonly runner: RoutingRunner,
    private readonly cb: Callback,
    private readonly params: unknown,
    private readonly compiled: CompiledQuery | CompiledQuery[],
    private readonly stream: unknown,
  ) {
    this.statement = describeBuilder(runner.builder, compiled);
    this.bound = boundNodeOf(runner.client);
    this.streaming = cb !== RUN;
  }

  source(): StatementSource {
    return builderSource(this.runner.builder, this.compiled);
  }

  execute(connection: PooledConnection, decision: RouteDecision): Promise<unknown> {
    this.handedOver = true;
    return this.runner.executeOn(connection, decision, this.cb, this.params, this.stream);
  }

  // knex's `.timeout()` failed the statement after it was sent (cancelled, or the cancel
  // failed and the connection is disposed): knex's error, never a run on another node.
  mayRetry(err: unknown): boolean {
    return !isKnexTimeout(err);
  }

  retrying(): void {
    this.runner.connection = undefined;
    this.handedOver = false;
    // knex rewrites `?` to `$n` in the compiled object while running it: compile afresh.
    if (this.cb === RUN) this.runner.compiled = this.runner.builder.toSQL();
  }
}
