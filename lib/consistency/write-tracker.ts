import type { CommittedWrite as WriteInfo } from '../subsystem';
import type { CommitPositions } from './commit-positions';
import type { ConsistencyOptions } from './consistency-config';
import type { ConsistencyScopes } from './consistency-scopes';
import type { ConsistencyState } from './consistency-state';

/**
 * The write hook: after a write commits, records in the current scope either a pending
 * position (LSN mode: a ticket, no round trip; the position is read later, shared with
 * every write before it) or a sticky window (window mode, or an instance without replicas).
 *
 * @example
 * afterCommit: (write) => tracker.afterWrite(write)
 *
 * @internal
 */
export class WriteTracker {
  constructor(
    private readonly options: ConsistencyOptions,
    private readonly scopes: ConsistencyScopes,
    private readonly commits: CommitPositions,
    // Asked per write: replicas may join at run time (topology discovery).
    private readonly hasReplicas: () => boolean,
  ) {}

  /**
   * Why the last shared position read failed, if it did. Transient by design: the scopes
   * waiting for it keep reading the primary, and the next read asks again. Nothing ever
   * switches the instance out of LSN mode.
   */
  get lsnUnavailable(): string | undefined {
    return this.commits.lastError;
  }

  /** The mode writes are recorded in (the configured one: fallbacks are per write). */
  get effectiveMode(): ConsistencyOptions['mode'] {
    return this.options.mode;
  }

  afterWrite(info: WriteInfo): void {
    if (this.options.mode === 'none') return;
    const state = this.scopes.current();
    if (state === undefined) return;
    // Without replicas no read can be stale: a window costs nothing.
    if (this.options.mode === 'window' || !this.hasReplicas()) {
      this.noteWindow(state, info);
      return;
    }
    state.notePending(this.commits.noteCommit(), this.options.clock.now());
  }

  private noteWindow(state: ConsistencyState, info: WriteInfo): void {
    const tables = this.options.perTable && !info.broad && info.tables.length > 0 ? info.tables : undefined;
    state.noteWindow(this.options.clock.now() + this.options.windowMs, tables);
  }
}
