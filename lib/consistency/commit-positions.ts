import { debugLogger } from '../debug-log';
import { redactError } from '../redact';
import { performance } from 'perf_hooks';
import type { BackgroundLinks } from '../background/background-links';
import { systemClock, type NormalizedClock } from '../clock';
import { REACHABLE_INSERT_POSITION } from '../route/commit-position';
import type { Node } from '../route/node';

const debugSticky = debugLogger('split-knex:sticky');

/** Readings kept to answer "the first read that started after commit N" (older ones fall back to a later reading: stricter, never looser). */
const KEPT_READINGS = 32;
/**
 * While the instance writes and its reads use the positions, a shared position read starts
 * this long after the first unread commit; while they do not, once a whole period of this
 * length has passed without a commit.
 */
export const BACKGROUND_READ_DELAY_MS = 20;

const POSITION_SQL = `select (${REACHABLE_INSERT_POSITION})::text as lsn`;

/**
 * Reads the primary's position on its background connection: a position at or after the
 * end of every commit that returned before the query was sent.
 *
 * @example
 * const read = linkPositionReader(ctx.links, () => ctx.router.currentWriter, 2000);
 * await read() // 23803720n
 */
export function linkPositionReader(links: BackgroundLinks, writer: () => Node, timeoutMs: number): () => Promise<bigint> {
  return async () => {
    const res = await links.of(writer()).query(POSITION_SQL, undefined, timeoutMs);
    const text = String(res.rows[0]?.lsn ?? '');
    if (!/^\d{1,20}$/.test(text)) throw new Error(`unexpected WAL position ${text}`);
    return BigInt(text);
  };
}

interface Reading {
  /** Every commit numbered up to this one had returned before the read was sent. */
  covers: number;
  lsn: bigint;
}

/**
 * WAL positions of commits without a round trip per write. A write takes a number (a
 * ticket, no I/O); any read of the primary's insert position that is *sent after* that
 * commit returned yields a position at or past it. So one shared read, coalesced (at most
 * one in flight; a request that arrives while a read sent before its commit is in flight
 * waits for the next one), serves every write numbered before it was sent.
 *
 * In the background, while the instance writes, a read starts shortly after the first
 * unread commit, so a read of an older write finds its position known. It does so only
 * while the readings are used (a read or a token found its write covered, or a read asked
 * for one). Otherwise (reads that follow their writes at once go to the primary, or there
 * are no reads at all: a batch job), the next one waits until the instance has not committed
 * for that long: nothing is read while it keeps writing.
 *
 * @example
 * const commits = new CommitPositions(read);
 * const ticket = commits.noteCommit();      // in the after-commit effect: no I/O
 * await commits.request(ticket);            // when a read must decide, or a token is minted
 * commits.known(ticket)                     // 23803720n
 */
export class CommitPositions {
  private commits = 0;
  private readonly readings: Reading[] = [];
  private inFlight: { covers: number; promise: Promise<void> } | undefined;
  private queued: Promise<void> | undefined;
  private timer: unknown;
  private running = false;
  /** Some read or token used a reading (or asked for one) since the last background read. */
  private wanted = true;
  /** The commit count when the timer was set. */
  private armedAt = 0;
  /** Shared reads done, failed, and their total time in ms. */
  reads = 0;
  failures = 0;
  readMs = 0;
  /** Why the last read failed, when the last one did (transient: the next request reads again). */
  lastError: string | undefined;

  constructor(
    private readonly read: () => Promise<bigint>,
    /** Told of the first failure after a success (a warning, once per outage). */
    private readonly onFailure: (err: unknown) => void = () => undefined,
    /** The instance's clock: its timers run the background reads. */
    private readonly clock: NormalizedClock = systemClock,
  ) {}

  /** Numbers a commit that just returned; schedules a background read while the instance writes. */
  noteCommit(): number {
    const ticket = ++this.commits;
    if (this.running && this.timer === undefined) this.schedule();
    return ticket;
  }

  /** A position at or past commit `ticket`, if a read sent after it has answered. */
  known(ticket: number): bigint | undefined {
    const lsn = this.find(ticket);
    if (lsn !== undefined) this.wanted = true;
    return lsn;
  }

  /** Resolves once a read covering `ticket` has answered or failed (never rejects). */
  request(ticket: number): Promise<void> {
    this.wanted = true;
    return this.fetch(ticket);
  }

  private find(ticket: number): bigint | undefined {
    // Readings are in the order they were sent: the first that covers the ticket is the tightest.
    for (const r of this.readings) if (r.covers >= ticket) return r.lsn;
    return undefined;
  }

  private fetch(ticket: number): Promise<void> {
    if (this.find(ticket) !== undefined) return Promise.resolve();
    const current = this.inFlight;
    if (current === undefined) return this.send();
    if (current.covers >= ticket) return current.promise;
    // Sent before this commit returned: it proves nothing about it. One read queued behind it.
    return (this.queued ??= current.promise.then(() => {
      this.queued = undefined;
      return this.inFlight?.promise ?? this.send();
    }));
  }

  private schedule(): void {
    this.armedAt = this.commits;
    this.timer = this.clock.setTimeout(() => this.background(), BACKGROUND_READ_DELAY_MS);
  }

  private background(): void {
    this.timer = undefined;
    if (!this.running) return;
    // Nothing used the last readings and the instance is still committing: wait for a quiet period.
    if (!this.wanted && this.commits !== this.armedAt) {
      this.schedule();
      return;
    }
    this.wanted = false;
    void this.fetch(this.commits);
  }

  private send(): Promise<void> {
    const covers = this.commits;
    const began = performance.now();
    let sent: Promise<bigint>;
    try {
      sent = this.read();
    } catch (err) {
      sent = Promise.reject(err);
    }
    const promise = sent.then(
      (lsn) => {
        this.reads++;
        this.lastError = undefined;
        this.readings.push({ covers, lsn });
        if (this.readings.length > KEPT_READINGS) this.readings.shift();
      },
      (err: unknown) => {
        this.failures++;
        const first = this.lastError === undefined;
        const code = (err as { code?: unknown } | null)?.code;
        const message = redactError(err);
        this.lastError = typeof code === 'string' ? `${code}: ${message}` : message;
        debugSticky('shared WAL position read failed: %s', this.lastError);
        // Said once per outage: every read after a write asks again while it lasts. A read
        // that destroy() cut short is no outage: nothing to say.
        if (first && code !== 'ESPLIT_DESTROYED') this.onFailure(err);
      },
    ).finally(() => {
      this.readMs += performance.now() - began;
      if (this.inFlight?.promise === promise) this.inFlight = undefined;
    });
    this.inFlight = { covers, promise };
    return promise;
  }

  /** Background reads while writing start with the instance's background work. */
  start(): void {
    this.running = true;
  }

  /** Stops background reads (a read in flight settles by itself). */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
