import type { Queryable } from '../background/background-link';
import { systemClock, type NormalizedClock } from '../clock';
import type { BackgroundTask as Lifecycle } from '../subsystem';

/** The catalog refresher's time source and timers (see {@link NormalizedClock}). */
export type CatalogTimers = NormalizedClock;
/** The real, unref'd timers. */
export const realTimers: CatalogTimers = systemClock;

/**
 * What a {@link CatalogRefresher} drives.
 *
 * @example
 * const options: CatalogRefresherOptions = { load: loadAndInstall, refreshMs: 60_000, timers: realTimers, onFailure: () => undefined };
 */
export interface CatalogRefresherOptions {
  /**
   * Reads the catalog and installs it, on `connection` when one is given (a connection to
   * the primary the caller holds) or else on one of the primary's pool; calls `begin()`
   * right before it sends the queries. Rejects when it could not.
   */
  load(connection: Queryable | undefined, begin: () => void): Promise<void>;
  /** Interval between loads after a success; 0: no interval. */
  refreshMs: number;
  /**
   * How long after `start()` the first load begins unless `soon()` is called first
   * (default 0). The instance calls `soon()` when its first statement completes, so the
   * load never competes with the application's first query.
   */
  initialDelayMs?: number;
  timers: CatalogTimers;
  /**
   * Told of every failed load: the error, how many loads failed in a row, when the next
   * try is, and whether the answers in use are known to be stale (a change was noted that
   * no successful load has seen since).
   */
  onFailure(err: unknown, consecutive: number, retryInMs: number, knownStale: boolean): void;
  /** Told when a load succeeds. */
  onSuccess?(consecutiveFailuresBefore: number): void;
}

const BASE_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

/**
 * Decides when the catalog loads: at start, on an interval, with backoff after failures,
 * and on demand. A caller that noted a change (DDL) waits for a load that *began reading
 * after* the change, so the answers it then gets include it.
 *
 * Changes are numbered: `noteChange()` bumps the count; each load remembers the count
 * when it begins reading; `covered` is the highest such count of a successful load.
 * Loads on the pool run one at a time; a caller holding a connection to the primary (a
 * write hook) loads on that connection instead of waiting for the pool, which a write
 * holding the last connection could otherwise deadlock until the acquire timeout.
 *
 * @example
 * const r = new CatalogRefresher({ load, refreshMs: 60_000, timers: realTimers, onFailure });
 * r.start();                    // first load in the background
 * r.noteChange(); await r.ensure(r.changes); // after DDL
 */
export class CatalogRefresher implements Lifecycle {
  /** Changes noted so far (DDL seen, explicit refreshes). */
  changes = 0;
  /**
   * `changes` at the start of the last successful load. Starts at 0: with no change noted,
   * there is nothing a write must wait for, not even the first load.
   */
  covered = 0;
  /** Consecutive failed loads. */
  failures = 0;
  // The pool load running: `seq` is known once it began reading (Infinity before: it
  // will see every change noted until then).
  private inflight: { seq: number; promise: Promise<void> } | undefined;
  private queued: Promise<void> | undefined;
  private timer: unknown;
  private running = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private timerAt = 0;
  // A reloadSoon() that arrived while a load was running: applied when it ends.
  private soonGap: number | undefined;
  // Between start() and the first load: soon() may bring that load forward.
  private waitingForFirst = false;

  constructor(private readonly options: CatalogRefresherOptions) {}

  /** Schedules the first load in the background (after `initialDelayMs`) and the interval after it. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.waitingForFirst = true;
    this.schedule(this.options.initialDelayMs ?? 0);
  }

  /** Brings the first load after `start()` forward to now (in the background); no-op afterwards. */
  soon(): void {
    if (!this.waitingForFirst || this.inflight !== undefined) return;
    this.waitingForFirst = false;
    this.schedule(0);
  }

  /**
   * Cancels the timer. A load in flight is not waited for: `destroy()` stops the
   * lifecycles before it closes the pools, and a load waiting for a connection to an
   * unreachable primary would hold it up until the pool's acquire timeout. Such a load
   * fails when its pool closes, and schedules nothing.
   */
  stop(): void {
    this.running = false;
    this.waitingForFirst = false;
    this.soonGap = undefined;
    this.clearTimer();
  }

  /** True while a load is running. */
  get loading(): boolean {
    return this.inflight !== undefined;
  }

  /** Records that the catalog may have changed (e.g. DDL went through). */
  noteChange(): number {
    return ++this.changes;
  }

  /**
   * A background load as soon as possible but no sooner than `minGapMs` after the last
   * one started (after the one in flight, if any): for hints that the answers may be
   * stale, e.g. a replica refused a statement they routed there.
   */
  reloadSoon(minGapMs: number): void {
    if (!this.running) return;
    if (this.inflight !== undefined) {
      this.soonGap = minGapMs;
      return;
    }
    const now = this.options.timers.now();
    const at = Math.max(now, this.lastStart + minGapMs);
    if (this.timer === undefined || this.timerAt > at) this.schedule(at - now);
  }

  /** A load that starts now (or right after the one in flight); rejects when it fails. */
  refresh(): Promise<void> {
    return this.ensure(this.noteChange());
  }

  /**
   * Resolves once a load that began reading after change `seq` succeeded; rejects when
   * that load fails. With `connection` (held by the caller, on the primary) a new load
   * runs on it at once, unless one that covers `seq` is already reading.
   */
  ensure(seq: number, connection?: Queryable): Promise<void> {
    if (this.covered >= seq) return Promise.resolve();
    const inflight = this.inflight;
    if (connection !== undefined) {
      return inflight !== undefined && inflight.seq !== Infinity && inflight.seq >= seq ? inflight.promise : this.startLoad(connection);
    }
    if (inflight !== undefined && inflight.seq >= seq) return inflight.promise;
    if (inflight === undefined) return this.startLoad();
    // The load in flight started before the change: run one more after it, shared by all
    // who wait for a change it cannot have seen.
    this.queued ??= inflight.promise.catch(() => undefined).then(() => {
      this.queued = undefined;
      return this.inflight?.promise ?? this.startLoad();
    });
    return this.queued;
  }

  private startLoad(connection?: Queryable): Promise<void> {
    const entry = { seq: Infinity, promise: undefined as unknown as Promise<void> };
    this.lastStart = this.options.timers.now();
    this.waitingForFirst = false;
    this.clearTimer();
    const begin = (): void => {
      entry.seq = this.changes;
    };
    const promise = this.options.load(connection, begin).then(
      () => {
        const before = this.failures;
        this.failures = 0;
        if (entry.seq !== Infinity) this.covered = Math.max(this.covered, entry.seq);
        this.options.onSuccess?.(before);
        if (this.options.refreshMs > 0) this.schedule(this.options.refreshMs);
      },
      (err: unknown) => {
        // Stopped meanwhile (destroy closed the pool under it): nothing to report or retry.
        if (!this.running) throw err;
        this.failures++;
        const retryIn = this.backoff();
        this.options.onFailure(err, this.failures, retryIn, this.covered < this.changes);
        this.schedule(retryIn);
        throw err;
      },
    ).finally(() => {
      if (this.inflight === entry) this.inflight = undefined;
      const gap = this.soonGap;
      this.soonGap = undefined;
      if (gap !== undefined) this.reloadSoon(gap);
    });
    entry.promise = promise;
    if (connection === undefined) this.inflight = entry;
    return promise;
  }

  // 1 s, 2 s, 4 s, … up to a minute, and never beyond the refresh interval.
  private backoff(): number {
    const cap = this.options.refreshMs > 0 ? Math.min(this.options.refreshMs, MAX_RETRY_MS) : MAX_RETRY_MS;
    return Math.min(cap, Math.min(BASE_RETRY_MS, cap) * 2 ** Math.min(this.failures - 1, 16));
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.clearTimer();
    this.timerAt = this.options.timers.now() + ms;
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      // A load already running will schedule the next one itself.
      if (this.inflight === undefined) this.startLoad().catch(() => undefined);
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
