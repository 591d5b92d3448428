/**
 * The one place split-knex touches knex internals (knex 3.x). Everything here is typed
 * as narrowly as we use it; `test/unit/knex-seams.test.ts` fails if knex changes a seam.
 *
 * @internal
 */
import type { EventEmitter } from 'events';
import type { Knex } from 'knex';

/** A driver connection as the pool hands it out (a `pg.Client` with knex's marks). */
export interface PooledConnection {
  __knexUid?: string;
  __knexTxId?: string;
  processID?: number;
  [key: symbol]: unknown;
}

/** The compiled form of one statement, as `builder.toSQL()` returns it. */
export interface CompiledQuery {
  method?: string;
  sql: string;
  bindings?: readonly unknown[];
  options?: unknown;
  [key: string]: unknown;
}

/** What knex keeps on a builder (query, raw or schema) that we read. */
export interface BuilderInternals extends EventEmitter {
  client: KnexClient;
  _method?: string;
  _single?: { lock?: string; table?: unknown; [k: string]: unknown };
  _statements?: Array<{ grouping: string; [k: string]: unknown }>;
  _sequence?: unknown[];
  _connection?: PooledConnection;
  _queryContext?: unknown;
  _debug?: boolean;
  toSQL(): CompiledQuery | CompiledQuery[];
  queryContext(): unknown;
}

/** A knex client instance (`Knex.Client` plus the internals we use). */
export interface KnexClient extends EventEmitter {
  config: Knex.Config & Record<string, unknown>;
  pool: TarnPoolLike | undefined;
  transacting?: boolean;
  version?: string;
  logger: { debug(m: unknown): void; warn(m: unknown): void };
  acquireConnection(): Promise<PooledConnection>;
  releaseConnection(connection: PooledConnection): Promise<void>;
  initializePool(config?: unknown): void;
  destroy(callback?: (err?: unknown) => void): Promise<void>;
  cancelQuery(connection: PooledConnection): Promise<unknown>;
  stream(connection: PooledConnection, sql: unknown, stream: unknown, options: unknown): Promise<unknown>;
  runner(builder: BuilderInternals): RunnerInternals;
  transaction(container: unknown, config?: unknown, outerTx?: unknown): unknown;
  postProcessResponse(resp: unknown, queryContext: unknown): unknown;
}

/** The subset of a tarn pool `stats()` reads. */
export interface TarnPoolLike {
  /** The pool's `max` (tarn keeps it as a plain property). */
  readonly max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

/** knex's `Runner` instance shape. */
export interface RunnerInternals {
  client: KnexClient;
  builder: BuilderInternals;
  connection: PooledConnection | undefined;
  run(): Promise<unknown>;
  query(obj: CompiledQuery): Promise<unknown>;
  queryArray(queries: CompiledQuery[]): Promise<unknown>;
  ensureConnection(cb: (runner: RunnerInternals, params?: unknown) => unknown, params?: unknown): Promise<unknown>;
}

/** knex's `Transaction` instance shape (the parts we use). */
export interface TransactionInternals extends EventEmitter {
  client: KnexClient;
  outerTx: TransactionInternals | null;
  readOnly?: boolean;
  txid: string;
  _resolver?: (value: unknown) => void;
  /** The promise `await trx` / `trx.then()` settle with (read at each call). */
  _promise: Promise<unknown>;
  _completed: boolean;
  /** True once COMMIT or ROLLBACK was sent (or an outer transaction completed). */
  isCompleted(): boolean;
  _onAcquire(container: unknown, connection: PooledConnection): Promise<unknown>;
  commit(conn: PooledConnection, value: unknown): Promise<unknown>;
}

type Ctor<T> = new (...args: any[]) => T;

/* eslint-disable @typescript-eslint/no-var-requires */
/** knex's PostgreSQL dialect client class. */
export const ClientPG: Ctor<KnexClient> = require('knex/lib/dialects/postgres');
/** knex's base client class (its acquire/release use `this.pool`). */
export const BaseClient: Ctor<KnexClient> & { prototype: KnexClient } = require('knex/lib/client');
/** knex's Runner class. */
export const Runner: Ctor<RunnerInternals> & { prototype: RunnerInternals } = require('knex/lib/execution/runner');
/** knex's PostgreSQL transaction class. */
export const TransactionPG: Ctor<TransactionInternals> & { prototype: TransactionInternals } =
  require('knex/lib/dialects/postgres/execution/pg-transaction');
/** knex's migrator and seeder classes, built on a knex instance. */
export const Migrator: new (knex: Knex) => Knex.Migrator = require('knex/lib/migrations/migrate/Migrator').Migrator;
export const Seeder: new (knex: Knex) => Knex.Seeder = require('knex/lib/migrations/seed/Seeder');
/** knex's `makeKnex(client)`, which builds a knex instance around a client. */
export const makeKnex: (client: KnexClient) => Knex = require('knex/lib/knex-builder/make-knex');
const callbacks: {
  ensureConnectionCallback: (runner: RunnerInternals) => Promise<unknown>;
  ensureConnectionStreamCallback: (runner: RunnerInternals, params: StreamParams) => Promise<unknown>;
} = require('knex/lib/execution/internal/ensure-connection-callback');

/** What knex's `Runner#stream` hands `ensureConnection` as the callback's params. */
export interface StreamParams {
  /** The object-mode Transform knex returned to the caller (rows are piped into it). */
  stream: StreamInternals;
  options: unknown;
  hasHandler: boolean;
}

/** The Transform knex's `Runner#stream` creates: it has no `_flush` of its own. */
export interface StreamInternals extends EventEmitter {
  readonly destroyed: boolean;
  _flush?: (callback: (err?: Error | null) => void) => void;
  destroy(err?: Error): unknown;
}

/** knex's `start` events, fired before a builder is compiled (listeners may still change it). */
export function emitStart(runner: RunnerInternals): void {
  runner.client.emit('start', runner.builder);
  runner.builder.emit('start', runner.builder);
}

/**
 * knex's own "run the compiled statement" step (after {@link emitStart}), with the compiled SQL passed in so the
 * router and the runner compile each builder once (mirrors `ensureConnectionCallback`).
 */
export function runCompiled(runner: RunnerInternals, compiled: CompiledQuery | CompiledQuery[]): Promise<unknown> {
  if (runner.builder._debug) runner.client.logger.debug(compiled);
  return Array.isArray(compiled) ? runner.queryArray(compiled) : runner.query(compiled);
}

/** Exposed for the seam test: the callback `runCompiled` mirrors. */
export const knexEnsureConnectionCallback = callbacks.ensureConnectionCallback;

/**
 * knex's stream step (`ensureConnectionStreamCallback`) on a connection passed in, so the
 * runner need not hold it in `runner.connection` while it streams: knex's stream releases
 * `runner.connection` on 'close', and the pipeline must own that release (the after-commit
 * effects still run on it).
 */
export function streamOn(runner: RunnerInternals, connection: PooledConnection, params: StreamParams): Promise<unknown> {
  try {
    const sql = runner.builder.toSQL();
    if (Array.isArray(sql) && params.hasHandler) throw new Error('The stream may only be used with a single query statement.');
    return runner.client.stream(connection, sql, params.stream, params.options);
  } catch (e) {
    params.stream.emit('error', e);
    throw e;
  }
}

/** Exposed for the seam test: the callback `streamOn` mirrors. */
export const knexEnsureConnectionStreamCallback = callbacks.ensureConnectionStreamCallback;

/**
 * Resolves once a pg client has no query running (at once when it has none). A streamed
 * query's 'end' comes before PostgreSQL's ReadyForQuery: what runs next on the connection
 * (the after-commit effects) waits for it rather than queueing behind the stream, which pg
 * 8 flags as deprecated. Reads pg's `_getActiveQuery()` and its 'drain' event.
 */
export function untilIdle(connection: PooledConnection): Promise<void> {
  const c = connection as unknown as { _getActiveQuery?: () => unknown; once?: (e: 'drain', f: () => void) => void };
  if (typeof c._getActiveQuery !== 'function' || typeof c.once !== 'function' || c._getActiveQuery() == null) return Promise.resolve();
  return new Promise((resolve) => c.once!('drain', resolve));
}
