import { expect } from 'chai';
import { normalizeClock } from '../../lib/clock';
import { BACKGROUND_READ_DELAY_MS, CommitPositions } from '../../lib/consistency/commit-positions';
import { ManualClock } from '../support/manual-clock';

// A primary in miniature: each commit moves the WAL end; a position read captures the WAL
// end when it is *sent* and answers whenever the test says.
class FakePrimary {
  wal = 0n;
  readonly pending: Array<{ at: bigint; resolve: (v: bigint) => void; reject: (e: Error) => void }> = [];
  sent = 0;
  read = (): Promise<bigint> => {
    this.sent++;
    const at = this.wal;
    return new Promise((resolve, reject) => this.pending.push({ at, resolve, reject }));
  };
  /** Answers the oldest read in flight (with the position it captured), or fails it. */
  answer(fail = false): void {
    const r = this.pending.shift()!;
    if (fail) r.reject(new Error('connection reset'));
    else r.resolve(r.at);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('consistency: commit positions without a round trip per write', () => {
  it('one read serves every write that committed before it was sent; a write during a read waits for the next one', async () => {
    const primary = new FakePrimary();
    const commits = new CommitPositions(primary.read);
    primary.wal = 100n;
    const t1 = commits.noteCommit();
    primary.wal = 200n;
    const t2 = commits.noteCommit();
    expect(primary.sent).to.equal(0); // committing costs no I/O
    const first = commits.request(t2);
    void commits.request(t1); // covered by the read in flight: no second read
    primary.wal = 300n;
    const t3 = commits.noteCommit(); // returned after the read was sent: that read proves nothing about it
    const third = commits.request(t3);
    void commits.request(t3);
    expect(primary.sent).to.equal(1);
    primary.answer();
    await first;
    expect([commits.known(t1), commits.known(t2), commits.known(t3)]).to.deep.equal([200n, 200n, undefined]);
    await settle();
    expect(primary.sent).to.equal(2); // the queued read, sent once the first answered
    primary.answer();
    await third;
    expect(commits.known(t3)).to.equal(300n);
    expect(commits.reads).to.equal(2);
  });

  it('never gives a commit a position before its end, whatever the interleaving of commits, requests, answers and failures (the 0-stale proof)', async function () {
    this.timeout(30_000);
    // Why it holds: a commit is numbered after it returned, so its record is in the WAL
    // before any read sent afterwards; a reading only serves tickets numbered before it was
    // sent (`covers`), and positions only grow. Here every interleaving step is random.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 25; round++) {
      const primary = new FakePrimary();
      const commits = new CommitPositions(primary.read);
      const endOf = new Map<number, bigint>();
      const tickets: number[] = [];
      for (let step = 0; step < 200; step++) {
        const r = random();
        if (r < 0.35) {
          primary.wal += BigInt(1 + Math.floor(random() * 100));
          const t = commits.noteCommit();
          endOf.set(t, primary.wal);
          tickets.push(t);
        } else if (r < 0.65 && tickets.length > 0) {
          void commits.request(tickets[Math.floor(random() * tickets.length)]!);
        } else if (primary.pending.length > 0) {
          primary.answer(random() < 0.1);
        }
        await settle();
        for (const t of tickets) {
          const known = commits.known(t);
          if (known !== undefined) expect(known >= endOf.get(t)!, `ticket ${t}: ${known} < ${endOf.get(t)}`).to.equal(true);
        }
      }
      // Every request is eventually answered: no ticket is left without a way to its position.
      while (primary.pending.length > 0) {
        primary.answer();
        await settle();
      }
      const last = tickets[tickets.length - 1];
      if (last !== undefined) {
        const done = commits.request(last);
        while (primary.pending.length > 0 || commits.known(last) === undefined) {
          if (primary.pending.length > 0) primary.answer();
          await settle();
        }
        await done;
        expect(commits.known(last)! >= endOf.get(last)!).to.equal(true);
      }
    }
  });

  it('a failed read is transient: the next request reads again, and the first failure of an outage is said once', async () => {
    const primary = new FakePrimary();
    const told: string[] = [];
    const commits = new CommitPositions(primary.read, (err) => told.push((err as Error).message));
    primary.wal = 10n;
    const t = commits.noteCommit();
    const a = commits.request(t);
    primary.answer(true);
    await a;
    const b = commits.request(t);
    primary.answer(true);
    await b;
    expect([commits.known(t), commits.failures, told]).to.deep.equal([undefined, 2, ['connection reset']]);
    const c = commits.request(t);
    primary.answer();
    await c;
    expect(commits.known(t)).to.equal(10n);
    expect(commits.lastError).to.equal(undefined);
  });

  it('while started, a commit schedules one background read shortly after; stop() cancels it', async () => {
    const primary = new FakePrimary();
    const commits = new CommitPositions(primary.read);
    commits.noteCommit();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(primary.sent).to.equal(0); // not started: no background work
    commits.start();
    commits.noteCommit();
    commits.noteCommit();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(primary.sent).to.equal(1);
    primary.answer();
    commits.noteCommit();
    commits.stop();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(primary.sent).to.equal(1);
  });

  it('background reads no read uses wait for a pause in the commits (a batch job writes on for free); a read that uses one brings them back', async () => {
    const primary = new FakePrimary();
    const clock = new ManualClock();
    const commits = new CommitPositions(primary.read, undefined, clock);
    commits.start();
    const writeFor = async (ms: number): Promise<number> => {
      let ticket = 0;
      for (let t = 0; t < ms; t += 5) {
        primary.wal += 10n;
        ticket = commits.noteCommit();
        await clock.advance(5);
      }
      return ticket;
    };
    await writeFor(BACKGROUND_READ_DELAY_MS);
    expect(primary.sent, 'the first background read').to.equal(1);
    primary.answer();
    await settle();
    // Nobody used it: while the instance keeps committing, no more reads.
    let last = await writeFor(10 * BACKGROUND_READ_DELAY_MS);
    expect(primary.sent, 'no background read while commits go on and no read uses them').to.equal(1);
    // A pause: one read, which covers the last commit.
    await clock.advance(2 * BACKGROUND_READ_DELAY_MS);
    expect(primary.sent).to.equal(2);
    primary.answer();
    await settle();
    expect(commits.known(last), 'a read after the pause finds the position known').to.equal(primary.wal);
    // That read used it: while the instance writes, a read every BACKGROUND_READ_DELAY_MS again.
    last = await writeFor(4 * BACKGROUND_READ_DELAY_MS);
    expect(primary.sent).to.equal(3);
    primary.answer();
    await settle();
    // A read that asks for a position (request) brings them back as well.
    await writeFor(4 * BACKGROUND_READ_DELAY_MS);
    expect(primary.sent).to.equal(3);
    const asked = commits.request(last + 1);
    expect(primary.sent, 'the read that asked').to.equal(4);
    primary.answer();
    await asked;
    await writeFor(2 * BACKGROUND_READ_DELAY_MS);
    expect(primary.sent).to.equal(5);
    commits.stop();
  });

  it("arms one background timer at a time, whatever handle the instance's clock returns (none here)", () => {
    const primary = new FakePrimary();
    const timers: Array<() => void> = [];
    // As an instance has it: the configured clock through the one validator of clocks.
    const clock = normalizeClock({ now: () => 0, setTimeout: (fn: () => void) => void timers.push(fn), clearTimeout: () => undefined });
    const commits = new CommitPositions(primary.read, undefined, clock);
    commits.start();
    for (let i = 0; i < 5; i++) commits.noteCommit();
    expect(timers).to.have.length(1);
    timers.shift()!();
    expect(primary.sent).to.equal(1);
    commits.noteCommit();
    expect(timers).to.have.length(1);
    commits.stop();
  });
});
