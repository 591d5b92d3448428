import type { ConsistencyMiddleware, ConsistencyMiddlewareOptions, InScope, RunInContextOptions } from './consistency-scopes';

/**
 * The read-your-writes methods every splitKnex instance has.
 *
 * @example
 * app.use(db.consistencyMiddleware());               // one scope per request
 * await db.runInContext(async () => {                // or one per job
 *   await db('users').insert({ name: 'Ada' });
 *   return db('users').where({ name: 'Ada' }).first(); // sees the insert
 * });
 */
export interface ConsistencyMethods {
  /**
   * Runs `fn` in a consistency scope: its reads see its own committed writes (by WAL
   * position or sticky window). Inside a scope already, `fn` joins it. Returns what `fn`
   * returns; a knex builder or raw that `fn` returns without awaiting it is run inside the
   * scope, and a promise of its result is returned. A malformed `token` throws
   * `ESPLIT_TOKEN` before `fn` runs.
   */
  runInContext<T>(fn: () => T, options?: RunInContextOptions): InScope<T>;
  /** A Connect/Express-style `(req, res, next)` middleware that opens one scope per request. */
  consistencyMiddleware<Req = any, Res = any>(options?: ConsistencyMiddlewareOptions<Req>): ConsistencyMiddleware<Req, Res>;
  /** Forgets the current scope's writes (call it between jobs of a long-running worker). */
  resetConsistency(): void;
  /**
   * The current scope's state as a small opaque string, for a cookie, header or job payload.
   * Never waits: a write whose WAL position is still being read travels as "pending", and
   * the scope that applies the token reads the primary's position itself.
   */
  consistencyToken(): string;
  /**
   * Adds a WAL position from elsewhere (a commit LSN from an outbox or logical decoding:
   * `'0/16B3748'` or a bigint) to the current scope: its reads then see everything committed
   * up to it. A malformed position throws `ESPLIT_TOKEN`.
   */
  applyPosition(position: string | bigint): void;
  /** Adds a token's requirements to the current scope; a malformed token throws `ESPLIT_TOKEN`. */
  applyConsistencyToken(token: string): void;
}

declare module '../split-knex' {
  // Declaration merging: the methods are assigned by installConsistency().
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface SplitKnex<TRecord extends {} = any, TResult = any[]> extends ConsistencyMethods {}
}
