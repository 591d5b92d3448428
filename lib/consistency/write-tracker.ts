import createDebug from 'debug';
import { performance } from 'perf_hooks';
import type { WriteInfo } from '../split-core';
import type { ConsistencyOptions } from './consistency-config';
import type { ConsistencyCounters } from './consistency-counters';
import type { ConsistencyScopes } from './consistency-scopes';
import type { ConsistencyState } from './consistency-state';
import { formatLsn } from './wal-position';

const debugSticky = createDebug('split-knex:sticky');

// SQLSTATEs that say "this server will never give us a WAL position": the function is
// missing or forbidden, or the "primary" is in recovery. Anything else may be transient.
const PERMANENT = new Set(['42883', '42501', '0A000', '55000']);

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
  /** Why LSN mode fell back to windows for good, if it did. */
  lsnUnavailable: string | undefined;

  constructor(
    private readonly options: ConsistencyOptions,
    private readonly scopes: ConsistencyScopes,
    private readonly counters: ConsistencyCounters,
    private readonly hasReplicas: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  /** The mode writes are recorded in now. */
  get effectiveMode(): ConsistencyOptions['mode'] {
    return this.options.mode === 'lsn' && this.lsnUnavailable !== undefined ? 'window' : this.options.mode;
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
      this.counters.lsnCaptureMs += performance.now() - began;
      if (debugSticky.enabled) debugSticky('write committed at %s (%s)', formatLsn(lsn), info.tables.join(', ') || 'tables unknown');
      return lsn;
    } catch (err) {
      this.counters.lsnCaptureFailures++;
      const code = (err as { code?: unknown } | null)?.code;
      const message = err instanceof Error ? err.message : String(err);
      if (typeof code === 'string' && PERMANENT.has(code) && this.lsnUnavailable === undefined) {
        this.lsnUnavailable = `${code}: ${message}`;
        this.warn(`split-knex: cannot read the primary's WAL position (${this.lsnUnavailable}); sticky mode 'lsn' falls back to 'window' (${this.options.windowMs} ms)`);
      }
      debugSticky('WAL position capture failed, using a sticky window: %s', message);
      return undefined;
    }
  }
}
