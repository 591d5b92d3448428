import createDebug from 'debug';
import { performance } from 'perf_hooks';
import type { CommittedWrite as WriteInfo } from '../subsystem';
import type { ConsistencyOptions } from './consistency-config';
import type { ConsistencyCounters } from './consistency-counters';
import type { ConsistencyScopes } from './consistency-scopes';
import type { ConsistencyState } from './consistency-state';
import { formatLsn } from './wal-position';

const debugSticky = createDebug('split-knex:sticky');


/**
 * The write hook: after a write commits, records in the current scope either its WAL
 * position (LSN mode) or a sticky window (window mode, or when the position cannot be read).
 *
 * @example
 * core.writeHooks.push((info) => tracker.afterWrite(info));
 *
 * @internal
 */
export class WriteTracker {
  /**
   * Why the last position read failed, if it did. Transient by design: that write got a
   * sticky window instead, and the next write reads its position again. Nothing ever
   * switches the instance out of LSN mode (a failure may come from anywhere, not from the primary).
   */
  lsnUnavailable: string | undefined;

  constructor(
    private readonly options: ConsistencyOptions,
    private readonly scopes: ConsistencyScopes,
    private readonly counters: ConsistencyCounters,
    private readonly hasReplicas: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  /** The mode writes are recorded in (the configured one: fallbacks are per write). */
  get effectiveMode(): ConsistencyOptions['mode'] {
    return this.options.mode;
  }

  afterWrite(info: WriteInfo): void | Promise<void> {
    if (this.options.mode === 'none') return;
    const state = this.scopes.current();
    if (state === undefined) return;
    // Without replicas no read can be stale: a window costs nothing, a position a round trip.
    if (this.effectiveMode === 'window' || !this.hasReplicas) {
      this.noteWindow(state, info);
      return;
    }
    return this.capture(info).then((lsn) => {
      if (lsn === undefined) this.noteWindow(state, info);
      else state.noteLsn(lsn, this.options.clock.now());
    });
  }

  private noteWindow(state: ConsistencyState, info: WriteInfo): void {
    const tables = this.options.perTable && !info.broad && info.tables.length > 0 ? info.tables : undefined;
    state.noteWindow(this.options.clock.now() + this.options.windowMs, tables);
  }

  // Never rejects: a failed capture must not fail the caller's committed write.
  private async capture(info: WriteInfo): Promise<bigint | undefined> {
    const began = performance.now();
    try {
      // Shared with the other write hooks (the cache's lag guard): one round trip per write.
      const lsn = await info.commitPosition();
      this.counters.lsnCaptures++;
      this.lsnUnavailable = undefined;
      this.counters.lsnCaptureMs += performance.now() - began;
      if (debugSticky.enabled) debugSticky('write committed at %s (%s)', formatLsn(lsn), info.tables.join(', ') || 'tables unknown');
      return lsn;
    } catch (err) {
      this.counters.lsnCaptureFailures++;
      const code = (err as { code?: unknown } | null)?.code;
      const message = err instanceof Error ? err.message : String(err);
      const first = this.lsnUnavailable === undefined;
      this.lsnUnavailable = typeof code === 'string' ? `${code}: ${message}` : message;
      if (first) this.warn(`split-knex: cannot read the primary's WAL position (${this.lsnUnavailable}); this write gets a sticky window (${this.options.windowMs} ms) instead`);
      debugSticky('WAL position capture failed, using a sticky window: %s', message);
      return undefined;
    }
  }
}
