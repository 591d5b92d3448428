/**
 * What the consistency subsystem counts, as `stats().consistency` shows it.
 *
 * @example
 * db.stats().consistency.causalPrimaryReads // reads no caught-up replica could take
 */
export class ConsistencyCounters {
  /** Reads sent to the primary by a sticky window (window mode, or LSN mode's fallback). */
  stickyPrimaryReads = 0;
  /** Reads sent to the primary because their scope's last write position was still being read (LSN mode). */
  pendingPrimaryReads = 0;
  /** Reads with a causal requirement (the scope's writes, or its monotonic floor) that a caught-up replica took. */
  causalReplicaReads = 0;
  /** Reads with a causal requirement that went to the primary: no replica caught up within `maxWaitMs`. */
  causalPrimaryReads = 0;
  /** Reads that asked replicas for a fresh position (and waited, up to `maxWaitMs`). */
  causalWaits = 0;
  /** Time those reads spent asking and waiting, in ms. */
  causalWaitMs = 0;
  /**
   * Reads that had to see their scope's writes while the primary was busy (every connection
   * of the instance's pool in use, or its reads much slower than the replicas'), given up to
   * 10 ms to find a replica that replayed them instead of queueing on the primary (default
   * `maxWaitMs` only).
   */
  busyPrimaryWaits = 0;
  /** Replicas skipped because they are behind the position their scope last read at (monotonic reads). */
  monotonicSkips = 0;
  /** Reads with `.maxStaleness(ms)`: taken by a replica within the bound, or sent to the primary. */
  boundedReplicaReads = 0;
  boundedPrimaryReads = 0;
  /** Reads that should have gone to the primary for consistency while it was down, and went to a replica. */
  primaryDownReads = 0;
  /** Reads for which at least one lagging replica was skipped. */
  lagSkippedReads = 0;
  /** Reads sent to the primary because every replica lagged too much. */
  lagPrimaryReads = 0;
  /** Reads that waited for a replica to come within the lag limits (`onExceeded: 'wait'`). */
  lagWaits = 0;
  lagWaitMs = 0;
  /** Reads refused with `ESPLIT_NO_REPLICA` (`onExceeded: 'error'`). */
  lagErrors = 0;
  /** Shared reads of the primary's WAL position (each serves every write before it), and their total time (ms); filled in by stats(). */
  lsnCaptures = 0;
  lsnCaptureMs = 0;
  /** Scopes whose write position could not be read within `windowMs` (that write got a window). */
  lsnCaptureFailures = 0;
  /** Positions applied with `db.applyPosition()`. */
  positionsApplied = 0;
  /** Tokens applied. */
  tokensApplied = 0;
  /** Reads a replica answered with an undefined-object error while behind the primary, run again on the primary. */
  schemaLagRetries = 0;

  /** A plain object copy, times rounded to 0.1 ms. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this)) out[k] = typeof v === 'number' ? Math.round(v * 10) / 10 : v;
    return out;
  }
}
