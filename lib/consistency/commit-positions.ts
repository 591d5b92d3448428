import { debugLogger } from '../debug-log';
import { redactError } from '../redact';
import { performance } from 'perf_hooks';
import type { BackgroundLinks } from '../background/background-links';
import { REACHABLE_INSERT_POSITION } from '../route/commit-position';
import type { Node } from '../route/node';

const debugSticky = debugLogger('split-knex:sticky');

/** Readings kept to answer "the first read that started after commit N" (older ones fall back to a later reading: stricter, never looser). */
const KEPT_READINGS = 32;
/** While the instance writes, a shared position read starts this long after the first unread commit. */
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
  private timer: NodeJS.Timeout | undefined;
  private running = false;
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
  ) {}

  /** Numbers a commit that just returned; schedules a background read while the instance writes. */
  noteCommit(): number {
    const ticket = ++this.commits;
    if (this.running && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.request(this.commits);
      }, BACKGROUND_READ_DELAY_MS);
      this.timer.unref();
    }
    return ticket;
  }

  /** A position at or past commit `ticket`, if a read sent after it has answered. */
  known(ticket: number): bigint | undefined {
    // Readings are in the order they were sent: the first that covers the ticket is the tightest.
    for (const r of this.readings) if (r.covers >= ticket) return r.lsn;
    return undefined;
  }

  /** Resolves once a read covering `ticket` has answered or failed (never rejects). */
  request(ticket: number): Promise<void> {
    if (this.known(ticket) !== undefined) return Promise.resolve();
    const current = this.inFlight;
    if (current === undefined) return this.send();
    if (current.covers >= ticket) return current.promise;
    // Sent before this commit returned: it proves nothing about it. One read queued behind it.
    return (this.queued ??= current.promise.then(() => {
      this.queued = undefined;
      return this.inFlight?.promise ?? this.send();
    }));
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
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
