import { SplitKnexError } from '../errors';
import type { RequestScope } from '../route/request-scope';
import type { CommitPositions } from './commit-positions';
import type { ConsistencyOptions } from './consistency-config';
import { ConsistencyState, type ConsistencySnapshot } from './consistency-state';
import { decodeConsistencyToken, encodeConsistencyToken } from './consistency-token';
import { formatLsn, parseWalPosition } from '../wal-position';

/**
 * Options of `db.runInContext()`.
 *
 * @example
 * await db.runInContext(() => db('orders').where({ id }).first(), { token: job.consistencyToken });
 */
export interface RunInContextOptions {
  /** A token from `db.consistencyToken()` (another request, process or server) to start from. */
  token?: string;
}

/**
 * Options of `db.consistencyMiddleware()`.
 *
 * @example
 * app.use(db.consistencyMiddleware({ token: (req) => req.cookies?.rw }));
 */
export interface ConsistencyMiddlewareOptions<Req = any> {
  /** Reads a token from the request (a cookie, a header); a malformed one goes to `next(err)`. */
  token?: (req: Req) => string | undefined | null;
}

/**
 * A Connect/Express-style middleware.
 *
 * @example
 * const mw: ConsistencyMiddleware = db.consistencyMiddleware(); app.use(mw);
 */
export type ConsistencyMiddleware<Req = any, Res = any> = (req: Req, res: Res, next: (err?: unknown) => void) => void;

/** What `runInContext(fn)` returns: `fn`'s value, or a promise of what its builder or raw yields. */
export type InScope<T> = T extends PromiseLike<infer U> ? Promise<U> : T;

/**
 * Calls `fn` in the current scope. A knex builder or raw it returns runs only when someone
 * calls its `then()` — after `runInContext()` returned, outside the scope, where it would
 * miss the scope's writes and token. So a thenable that is not a running promise is started
 * here, in the scope (a promise's job keeps the async context it was created in).
 */
function startInScope<T>(fn: () => T): InScope<T> {
  const value = fn();
  const lazy = value !== null && typeof value === 'object' && !(value instanceof Promise)
    && typeof (value as { then?: unknown }).then === 'function';
  return (lazy ? Promise.resolve(value as unknown as PromiseLike<unknown>) : value) as InScope<T>;
}

/**
 * Where each statement finds its consistency state: the `runInContext()` scope it runs
 * in, else the instance's global state (`scope: 'global'`), else none.
 *
 * @example
 * const scopes = new ConsistencyScopes(core.scope, options);
 * await scopes.run(async () => { await db('t').insert(row); return db('t') });
 *
 * @internal
 */
export class ConsistencyScopes {
  private readonly global = new ConsistencyState();

  constructor(
    private readonly scope: RequestScope,
    private readonly options: ConsistencyOptions,
    /** Told of each token applied (decoded and merged), however it came: runInContext, middleware, applyConsistencyToken. */
    private readonly onTokenApplied: () => void = () => undefined,
    /** Where pending commit positions are read; without it a scope never holds a pending write. */
    readonly commits?: CommitPositions,
  ) {}

  /** The scope's pending write, if a read sent after it has answered, becomes its causal position. Returns false while it is still pending. */
  settle(state: ConsistencyState): boolean {
    if (state.pending === 0) return true;
    const lsn = this.commits?.known(state.pending);
    if (lsn === undefined) return false;
    state.settle(lsn);
    return true;
  }

  /**
   * Like {@link settle}, for the commits up to `ticket` only (those that returned before a
   * read started): true when their position is known, and then the scope's position covers
   * them. A newer pending commit stays pending.
   */
  settleUpTo(state: ConsistencyState, ticket: number): boolean {
    if (state.pending === 0 || ticket === 0) return true;
    if (state.pending <= ticket) return this.settle(state);
    const lsn = this.commits?.known(ticket);
    if (lsn === undefined) return false;
    state.noteLsn(lsn, state.pendingAt);
    return true;
  }

  /** The state statements of the current async context share, if any. */
  current(): ConsistencyState | undefined {
    const own = this.scope.current()?.consistency;
    if (own instanceof ConsistencyState) return own;
    return this.options.scope === 'global' ? this.global : undefined;
  }

  /** The `runInContext()` / middleware scope of the current async context, not the global state. */
  own(): ConsistencyState | undefined {
    const own = this.scope.current()?.consistency;
    return own instanceof ConsistencyState ? own : undefined;
  }

  /**
   * Runs `fn` in a consistency scope. Inside a scope already, `fn` joins it (a nested call
   * must not hide the outer scope's writes from the reads after it returns).
   */
  run<T>(fn: () => T, options: RunInContextOptions = {}): InScope<T> {
    if (typeof fn !== 'function') throw new TypeError('split-knex: runInContext(fn, options?) takes a function first');
    const imported = options.token === undefined ? undefined : decodeConsistencyToken(options.token);
    const own = this.scope.current()?.consistency;
    if (own instanceof ConsistencyState) {
      if (imported !== undefined) this.merge(own, imported);
      return startInScope(fn);
    }
    const state = new ConsistencyState();
    if (imported !== undefined) this.merge(state, imported);
    return this.scope.run({ consistency: state }, () => startInScope(fn));
  }

  /** A middleware that runs the rest of each request in its own scope. */
  middleware<Req, Res>(options: ConsistencyMiddlewareOptions<Req> = {}): ConsistencyMiddleware<Req, Res> {
    const tokenOf = options.token;
    if (tokenOf !== undefined && typeof tokenOf !== 'function') {
      throw new SplitKnexError('ESPLIT_CONFIG', 'split-knex: consistencyMiddleware({ token }) must be a function (req) => string | undefined');
    }
    return (req, _res, next) => {
      let token: string | undefined;
      try {
        token = tokenOf?.(req) ?? undefined;
        if (token === '') token = undefined;
      } catch (err) {
        next(err);
        return;
      }
      let entered = false;
      try {
        this.run(() => {
          entered = true;
          next();
        }, { token });
      } catch (err) {
        // Only a bad token lands here; an error thrown by the rest of the chain is not ours to report.
        if (entered) throw err;
        next(err);
      }
    };
  }

  /** Forgets the current scope's writes (or the global state's, outside any scope). */
  reset(): void {
    this.current()?.reset();
  }

  /**
   * The current scope's state as a token. Never waits: a write whose position is still
   * being read travels as "pending" and the scope that applies it reads the primary's
   * position itself (a read sent after it got the token is after the write too).
   */
  token(): string {
    const state = this.current() ?? new ConsistencyState();
    this.settle(state);
    return encodeConsistencyToken(state.snapshot(this.options.clock.now()));
  }

  /**
   * Adds a WAL position from elsewhere (an outbox row, logical decoding) to the current
   * scope: its reads then see everything committed up to it.
   */
  applyPosition(position: unknown): void {
    const lsn = typeof position === 'string' || typeof position === 'bigint' ? parseWalPosition(position) : undefined;
    if (lsn === undefined) {
      const shown = typeof position === 'string' ? JSON.stringify(position.slice(0, 40)) : typeof position;
      throw new SplitKnexError('ESPLIT_TOKEN', `split-knex: applyPosition() takes a WAL position such as '0/16B3748' or a bigint; got ${shown}`);
    }
    const state = this.current();
    if (state === undefined) {
      throw new SplitKnexError('ESPLIT_TOKEN', `split-knex: no consistency scope to apply position ${formatLsn(lsn)} to (sticky.scope is 'none'): call applyPosition() inside db.runInContext()`);
    }
    state.noteLsn(lsn, this.options.clock.now());
  }

  /** Adds a token's requirements to the current scope's state. */
  applyToken(token: string): void {
    const imported = decodeConsistencyToken(token);
    const state = this.current();
    if (state === undefined) {
      throw new SplitKnexError('ESPLIT_TOKEN', "split-knex: no consistency scope to apply the token to (sticky.scope is 'none'): call applyConsistencyToken() inside db.runInContext(), or pass { token } to it");
    }
    this.merge(state, imported);
  }

  // A token may come from a client: it can only add requirements, and no window lasts
  // longer here than this instance's own windowMs.
  private merge(state: ConsistencyState, s: ConsistencySnapshot): void {
    this.onTokenApplied();
    const now = this.options.clock.now();
    const latest = now + this.options.windowMs;
    state.merge({
      lsn: s.lsn,
      lsnAt: Math.min(s.lsnAt, now),
      until: Math.min(s.until, latest),
      tables: s.tables.map(([t, e]) => [t, Math.min(e, latest)] as const),
    });
    // A write still pending where the token was minted: any position read this instance
    // sends from now on was sent after that write returned.
    if (s.pendingAt !== undefined) {
      if (this.commits !== undefined) state.notePending(this.commits.noteCommit(), Math.min(s.pendingAt, now));
      else state.noteWindow(Math.min(s.pendingAt, now) + this.options.windowMs, undefined);
    }
  }
}
