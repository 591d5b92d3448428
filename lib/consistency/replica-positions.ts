import { debugLogger } from '../debug-log';
import { redactError } from '../redact';
import type { Node } from '../route/node';
import type { BackgroundTask as Lifecycle } from '../subsystem';
import type { ConsistencyClock } from './consistency-config';
import type { PositionProbes, ReplicaReading } from './position-probe';
import { formatLsn } from '../wal-position';

const debugLag = debugLogger('split-knex:lag');

/** Primary positions kept to bound time lag by position (see {@link ReplicaPositions.lag}). */
const HISTORY = 256;
/** Probes of one node that may be unsettled at once (a paused node never answers). */
const MAX_UNSETTLED = 2;
/** A replay rate is measured over at least this span (on-demand probes come close together). */
const RATE_SPAN_MS = 100;

/** A replica's lag as last measured; undefined parts are unknown. */
export interface ReplicaLag {
  bytes: number | undefined;
  ms: number | undefined;
}

/**
 * One replica's line in `stats().consistency.replicas`.
 *
 * @example
 * // { name: 'replica1', replayLsn: '0/3000060', lagBytes: 0, lagMs: 0, polledMsAgo: 412, lastError: null }
 */
export interface ReplicaPositionStats {
  name: string;
  replayLsn: string | null;
  lagBytes: number | null;
  lagMs: number | null;
  /** How long ago the last successful poll answered, in ms. */
  polledMsAgo: number | null;
  lastError: string | null;
}

interface Position {
  reading: ReplicaReading | undefined;
  polledAt: number;
  acceptedSeq: number;
  inFlight: { seq: number; promise: Promise<void> } | undefined;
  unsettled: number;
  lastError: string | undefined;
  /**
   * An earlier reading, at least RATE_SPAN_MS before the last: the replay rate is measured
   * from it, when the replica was behind the primary then (an idle replica's rate says nothing).
   */
  prev?: { lsn: bigint; at: number; behind: boolean };
}

/** Options for {@link ReplicaPositions}. */
export interface ReplicaPositionsOptions {
  /** Background poll period; 0 polls only on demand. */
  pollIntervalMs: number;
  /** Bound on one probe. */
  pollTimeoutMs: number;
  clock: ConsistencyClock;
}

/**
 * The cached replay position of every replica and the primary's WAL position, refreshed
 * in the background (unref'd timer, stopped by `destroy()`) and on demand.
 *
 * @example
 * const positions = new ReplicaPositions(() => core.router.currentWriter, core.replicas, linkPositionProbes(links), { pollIntervalMs: 1000, pollTimeoutMs: 2000, clock: Date });
 * core.lifecycles.push(positions);
 * await positions.refresh(replica); positions.replayed(replica) // 0x3000060n
 */
export class ReplicaPositions implements Lifecycle {
  private readonly positions = new Map<Node, Position>();
  private primaryLsn: bigint | undefined;
  private primaryAt = 0;
  private readonly history: Array<{ lsn: bigint; at: number }> = [];
  private seqCounter = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private wanted = false;
  private round: Promise<void> | undefined;
  private readonly replicas: Node[];
  /** The writer the readings were taken under; a new one (a failover) voids them all. */
  private writer: Node | undefined;
  private epoch = 0;

  constructor(
    /** The node writes go to now (it changes after a failover with role discovery). */
    private readonly primary: () => Node,
    replicas: readonly Node[],
    private readonly probes: PositionProbes,
    private readonly options: ReplicaPositionsOptions,
  ) {
    this.replicas = [];
    for (const r of replicas) this.addReplica(r);
  }

  /**
   * Polls a replica that joined at run time (topology discovery): at once (a read that must
   * see a recent write can use it as soon as its position is known), then with every round.
   */
  addReplica(node: Node): void {
    if (this.positions.has(node)) return;
    this.replicas.push(node);
    this.positions.set(node, { reading: undefined, polledAt: 0, acceptedSeq: 0, inFlight: undefined, unsettled: 0, lastError: undefined });
    // A first replica joined an instance that had none: the poll starts now.
    if (this.wanted && !this.running) this.start();
    else if (this.running) void this.refresh(node);
  }

  /** Forgets a replica that left. */
  removeReplica(node: Node): void {
    const i = this.replicas.indexOf(node);
    if (i >= 0) this.replicas.splice(i, 1);
    this.positions.delete(node);
  }

  /** Starts background polling (a first round at once). */
  start(): void {
    this.wanted = true;
    if (this.running || this.options.pollIntervalMs === 0 || this.replicas.length === 0) return;
    this.running = true;
    this.tick();
  }

  /** Resolves once a first round of polls has answered (or failed): for `db.ready()`. */
  async ready(): Promise<void> {
    if (this.replicas.length === 0) return;
    await (this.round ?? this.pollAll());
  }

  /** Stops polling and waits (bounded) for a round in progress. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.round !== undefined) await this.round;
  }

  private tick(): void {
    this.round = this.pollAll().finally(() => {
      this.round = undefined;
      if (!this.running) return;
      this.timer = setTimeout(() => this.tick(), this.options.pollIntervalMs);
      this.timer.unref();
    });
  }

  /**
   * One round: the primary first, then every replica (so a replica at the primary's
   * position has zero lag). Nodes the health checks hold down are left alone: they take no
   * reads, and a connection attempt to a hung node would only wait.
   */
  async pollAll(): Promise<void> {
    this.sameWriter();
    if (this.primary().state !== 'down') await this.pollPrimary();
    await Promise.all(this.replicas.map((r) => {
      if (r.state !== 'down') return this.refresh(r);
      const p = this.positions.get(r);
      if (p !== undefined) p.reading = undefined;
      return undefined;
    }));
  }

  private async pollPrimary(): Promise<void> {
    const epoch = this.epoch;
    try {
      const lsn = await bounded(this.probes.primary(this.primary(), this.options.pollTimeoutMs), this.options.pollTimeoutMs, 'primary position');
      if (lsn === undefined || epoch !== this.epoch) return;
      const at = this.options.clock.now();
      this.primaryLsn = lsn;
      this.primaryAt = at;
      const last = this.history[this.history.length - 1];
      if (last === undefined || last.lsn !== lsn) {
        this.history.push({ lsn, at });
        if (this.history.length > HISTORY) this.history.shift();
      } else last.at = at;
    } catch (err) {
      debugLag('primary position poll failed: %s', errorText(err));
    }
  }

  /** The sequence number of the last probe started; `refresh(node, mark)` ignores older ones. */
  get mark(): number {
    return this.seqCounter;
  }

  /** The replica's last known replay position under the current writer, if any. */
  replayed(node: Node): bigint | undefined {
    this.sameWriter();
    return this.positions.get(node)?.reading?.replayLsn;
  }

  /**
   * After a failover every reading is void: a replica that was ahead of the promoted one
   * rewinds, and positions on the new timeline reuse the numbers past the fork, so an old
   * reading could claim a commit the replica does not have. Probes in flight are discarded.
   */
  private sameWriter(): void {
    const writer = this.primary();
    if (writer === this.writer) return;
    if (this.writer !== undefined) {
      this.epoch++;
      for (const p of this.positions.values()) {
        p.reading = undefined;
        p.prev = undefined;
      }
      this.primaryLsn = undefined;
      this.history.length = 0;
      debugLag('writer changed to %s: replica positions read again', writer.name);
    }
    this.writer = writer;
  }

  /**
   * When the replica is predicted to have replayed `need` (epoch ms, by the clock): from
   * its last position and its replay rate measured between two readings. `Infinity` when it
   * is not replaying (paused, or stuck behind a primary that moved on); `undefined` when
   * its position is unknown. A replica that had replayed all the primary had and has seen
   * nothing since (an idle primary) is predicted to follow at once.
   */
  predictReplayAt(node: Node, need: bigint): number | undefined {
    this.sameWriter();
    const p = this.positions.get(node);
    const replay = p?.reading?.replayLsn;
    if (p === undefined || replay === undefined) return undefined;
    if (replay >= need) return p.polledAt;
    if (this.lag(node).bytes === 0) return p.polledAt;
    const prev = p.prev;
    if (prev === undefined || !prev.behind || p.polledAt <= prev.at) return undefined;
    if (replay <= prev.lsn) return Infinity;
    const bytesPerMs = Number(replay - prev.lsn) / (p.polledAt - prev.at);
    return p.polledAt + Number(need - replay) / bytesPerMs;
  }

  /** How long ago (ms, by the clock) the replica's last position was read; `undefined` when unknown. */
  readingAge(node: Node, now: number): number | undefined {
    const p = this.positions.get(node);
    return p?.reading === undefined ? undefined : Math.max(0, now - p.polledAt);
  }

  /** True when the replica's last finished probe gave no position (failed, or the node is not replaying). */
  reportsNoPosition(node: Node): boolean {
    const p = this.positions.get(node);
    return p !== undefined && p.acceptedSeq > 0 && p.reading?.replayLsn === undefined;
  }

  /** True when the replica can be asked for its position (not stuck on unanswered probes). */
  canProbe(node: Node): boolean {
    const p = this.positions.get(node);
    return p !== undefined && (p.inFlight !== undefined || p.unsettled < MAX_UNSETTLED);
  }

  /**
   * Asks a replica for its position now, sharing a probe started after `mark` if one is
   * running (default: any running probe). Never rejects: a failure forgets the replica's
   * position.
   */
  refresh(node: Node, mark = -1): Promise<void> {
    const p = this.positions.get(node);
    if (p === undefined) return Promise.resolve();
    if (p.inFlight !== undefined && p.inFlight.seq > mark) return p.inFlight.promise;
    if (p.unsettled >= MAX_UNSETTLED) return Promise.resolve();
    this.sameWriter();
    const epoch = this.epoch;
    const seq = ++this.seqCounter;
    p.unsettled++;
    const probe = this.probes.replica(node, this.options.pollTimeoutMs);
    void probe.then(() => p.unsettled--, () => p.unsettled--);
    const promise = bounded(probe, this.options.pollTimeoutMs, `${node.name} position`).then(
      (reading) => {
        if (seq < p.acceptedSeq || epoch !== this.epoch) return;
        p.acceptedSeq = seq;
        const now = this.options.clock.now();
        const before = p.reading?.replayLsn;
        if (before !== undefined && now - p.polledAt >= RATE_SPAN_MS) {
          p.prev = { lsn: before, at: p.polledAt, behind: this.primaryLsn !== undefined && this.primaryLsn > before };
        }
        p.reading = reading;
        p.polledAt = now;
        p.lastError = undefined;
      },
      (err: unknown) => {
        if (seq < p.acceptedSeq || epoch !== this.epoch) return;
        // An unanswered or failed node proves nothing: forget its position.
        p.acceptedSeq = seq;
        p.reading = undefined;
        p.lastError = errorText(err);
        debugLag('%s position poll failed: %s', node.name, p.lastError);
      },
    ).finally(() => {
      if (p.inFlight?.seq === seq) p.inFlight = undefined;
    });
    p.inFlight = { seq, promise };
    return promise;
  }

  /**
   * A replica's lag as of its last poll. Bytes: primary position minus replay position.
   * Time: zero when the replica has replayed the primary's position (whatever the replay
   * timestamp says: an idle primary writes no new commits); otherwise the smaller of two
   * upper bounds — `now() - pg_last_xact_replay_timestamp()` and the time since the
   * primary was last seen at or below the replica's position.
   */
  lag(node: Node): ReplicaLag {
    this.sameWriter();
    const p = this.positions.get(node);
    const replay = p?.reading?.replayLsn;
    if (p === undefined || replay === undefined) return { bytes: undefined, ms: undefined };
    const freshPrimary = this.primaryLsn !== undefined && p.polledAt - this.primaryAt <= this.staleAfterMs();
    const bytes = freshPrimary ? Number(this.primaryLsn! > replay ? this.primaryLsn! - replay : 0n) : undefined;
    if (bytes === 0) return { bytes, ms: 0 };
    let ms = p.reading!.replayAgeMs;
    for (let i = this.history.length - 1; i >= 0; i--) {
      const h = this.history[i]!;
      if (h.lsn <= replay) {
        const bound = Math.max(0, p.polledAt - h.at);
        if (ms === undefined || bound < ms) ms = bound;
        break;
      }
    }
    return { bytes, ms: ms === undefined ? undefined : Math.round(ms) };
  }

  private staleAfterMs(): number {
    return 3 * this.options.pollIntervalMs + this.options.pollTimeoutMs;
  }

  /** The primary's last polled WAL position. */
  get primaryPosition(): bigint | undefined {
    return this.primaryLsn;
  }

  /** Per-replica lines for `stats()`. */
  stats(): ReplicaPositionStats[] {
    const now = this.options.clock.now();
    return this.replicas.flatMap((r) => {
      const p = this.positions.get(r);
      if (p === undefined) return [];
      const lag = this.lag(r);
      const replay = p.reading?.replayLsn;
      return [{
        name: r.name,
        replayLsn: replay === undefined ? null : formatLsn(replay),
        lagBytes: lag.bytes ?? null,
        lagMs: lag.ms ?? null,
        polledMsAgo: p.reading === undefined ? null : now - p.polledAt,
        lastError: p.lastError ?? null,
      }];
    });
  }
}

/** Rejects when `promise` takes longer than `ms` (the promise itself runs on): the probes bound their query, this bounds taking a connection too. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); },
    );
  });
}

// What stats() and debug lines show of a failed poll: a provider's error may quote its credentials.
function errorText(err: unknown): string {
  return redactError(err);
}
