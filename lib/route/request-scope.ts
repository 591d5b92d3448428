import { AsyncLocalStorage } from 'async_hooks';

/**
 * The per-async-context state of one splitKnex instance: `usePrimary()` and the
 * consistency state of `runInContext()` both live here, so two concurrent requests never
 * see each other's state.
 */
export interface ScopeState {
  /** Inside `db.usePrimary()`: every statement goes to the primary. */
  forcePrimary: boolean;
  /** Owned by the consistency subsystem (sticky windows, LSN positions). */
  consistency: unknown;
}

/**
 * One AsyncLocalStorage per splitKnex instance.
 *
 * @example
 * const scope = new RequestScope();
 * await scope.run({ forcePrimary: true }, () => db('users'));
 */
export class RequestScope {
  private readonly storage = new AsyncLocalStorage<ScopeState>();

  /** The state of the current async context, if inside a scope. */
  current(): ScopeState | undefined {
    return this.storage.getStore();
  }

  /** Runs `fn` in a scope whose state is the current one with `patch` applied. */
  run<T>(patch: Partial<ScopeState>, fn: () => T): T {
    const parent = this.storage.getStore();
    const state: ScopeState = { forcePrimary: false, consistency: undefined, ...parent, ...patch };
    return this.storage.run(state, fn);
  }
}
