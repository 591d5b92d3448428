/** Beyond this many per-table windows a scope sticks for every table (bounded memory and tokens). */
export const MAX_TABLE_WINDOWS = 64;

/** What a scope knows about its own writes, as tokens carry it. */
export interface ConsistencySnapshot {
  /** The WAL position a replica must have replayed to show every write of the scope. */
  lsn: bigint | undefined;
  /** When the write at `lsn` committed (epoch ms): the fallback window starts there if no replica reports positions. */
  lsnAt: number;
  /** Epoch ms until which every read sticks to the primary (0: none). */
  until: number;
  /** Per-table window ends (epoch ms), keyed by {@link tableKey}. */
  tables: ReadonlyArray<readonly [string, number]>;
  /**
   * A write whose position was not read yet when the snapshot was taken: when it committed
   * (epoch ms), else 0. Whoever holds the snapshot needs a primary position read sent
   * after it got the snapshot (that read is after the commit too).
   */
  pendingAt?: number;
}

/**
 * The consistency state of one scope (a request, a job, or the whole instance): the
 * highest WAL position it wrote, and sticky windows for writes whose position is not
 * known (window mode, a failed capture, a token from a window-mode instance). Times are
 * epoch ms so that a token can carry them to another process.
 *
 * @example
 * const s = new ConsistencyState();
 * s.noteWindow(Date.now() + 2000, undefined);
 * s.windowLeft(Date.now(), undefined) > 0 // true: every read sticks
 */
export class ConsistencyState {
  lsn: bigint | undefined;
  lsnAt = 0;
  until = 0;
  /** The newest commit (its {@link CommitPositions} ticket) of this scope whose position is not known yet; 0: none. */
  pending = 0;
  /** When that commit returned (epoch ms): after `windowMs` without a position, it counts as a window that ended. */
  pendingAt = 0;
  /**
   * Monotonic reads: the replay position of the replica this scope last read from, as
   * known when the read was routed. Later reads of the scope skip replicas behind it.
   */
  floor: bigint | undefined;
  private readonly tables = new Map<string, number>();

  /** Records a commit whose position is not read yet (no I/O on the write's path). */
  notePending(ticket: number, at: number): void {
    if (ticket > this.pending) this.pending = ticket;
    if (at > this.pendingAt) this.pendingAt = at;
  }

  /** The pending commit's position is known: it becomes the causal position. */
  settle(lsn: bigint): void {
    this.noteLsn(lsn, this.pendingAt);
    this.pending = 0;
  }

  /** Gives up on the pending position (it was never read within `windowMs`: its window has ended). */
  dropPending(): void {
    this.pending = 0;
  }

  /** A read of this scope went to a replica known to have replayed `position`. */
  noteSeen(position: bigint): void {
    if (this.floor === undefined || position > this.floor) this.floor = position;
  }

  /** Records a window ending at `end` for `tables`, or for every read when `tables` is undefined. */
  noteWindow(end: number, tables: readonly string[] | undefined): void {
    if (tables === undefined) {
      if (end > this.until) this.until = end;
      return;
    }
    for (const t of tables) {
      const key = tableKey(t);
      if ((this.tables.get(key) ?? 0) < end) this.tables.set(key, end);
    }
    if (this.tables.size > MAX_TABLE_WINDOWS) {
      // Too many to track one by one: stick for everything until the last of them ends.
      for (const e of this.tables.values()) if (e > this.until) this.until = e;
      this.tables.clear();
    }
  }

  /** Raises the causal position to `lsn`, committed at `at` (positions only grow within a scope). */
  noteLsn(lsn: bigint, at: number): void {
    if (this.lsn === undefined || lsn > this.lsn) this.lsn = lsn;
    if (at > this.lsnAt) this.lsnAt = at;
  }

  /**
   * Milliseconds left in the window that covers a read, 0 when none does. `readTables`
   * undefined means "every window counts" (not per table); an empty list means the read's
   * tables are unknown, so every table window counts too.
   */
  windowLeft(now: number, readTables: readonly string[] | undefined): number {
    let end = this.until;
    if (this.tables.size > 0) {
      const all = readTables === undefined || readTables.length === 0;
      for (const [key, e] of this.tables) {
        if (e <= now) this.tables.delete(key);
        else if (e > end && (all || readTables.some((t) => tableKey(t) === key))) end = e;
      }
    }
    return end > now ? end - now : 0;
  }

  /** Takes the stricter of this state and `other` (tokens only ever add requirements). */
  merge(other: ConsistencySnapshot): void {
    if (other.lsn !== undefined) this.noteLsn(other.lsn, other.lsnAt);
    if (other.until > this.until) this.until = other.until;
    for (const [t, e] of other.tables) this.noteWindow(e, [t]);
  }

  /** What a token carries; expired windows are left out. */
  snapshot(now: number): ConsistencySnapshot {
    const tables: Array<[string, number]> = [];
    for (const [key, e] of this.tables) if (e > now) tables.push([key, e]);
    const out: ConsistencySnapshot = { lsn: this.lsn, lsnAt: this.lsnAt, until: this.until > now ? this.until : 0, tables };
    if (this.pending > 0) out.pendingAt = this.pendingAt;
    return out;
  }

  /** Forgets everything (a worker between jobs). */
  reset(): void {
    this.lsn = undefined;
    this.lsnAt = 0;
    this.until = 0;
    this.pending = 0;
    this.pendingAt = 0;
    this.floor = undefined;
    this.tables.clear();
  }
}

/**
 * The key a table is compared by: the unqualified name, lower-cased. Two schemas' tables
 * of the same name then share a window — sticking more, never less.
 *
 * @example
 * tableKey('public.Users') // 'users'
 */
export function tableKey(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot < 0 ? name : name.slice(dot + 1)).toLowerCase();
}
