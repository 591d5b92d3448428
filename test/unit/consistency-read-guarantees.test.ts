import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import { CommitPositions } from '../../lib/consistency/commit-positions';
import { normalizeConsistencyConfig } from '../../lib/consistency/consistency-config';
import { ConsistencyCounters } from '../../lib/consistency/consistency-counters';
import { ConsistencyScopes } from '../../lib/consistency/consistency-scopes';
import { decodeConsistencyToken } from '../../lib/consistency/consistency-token';
import type { PositionProbes, ReplicaReading } from '../../lib/consistency/position-probe';
import { ReplicaPositions } from '../../lib/consistency/replica-positions';
import { StalenessPolicy } from '../../lib/consistency/staleness-policy';
import { StickyPolicy, YOUNG_WRITE_MS } from '../../lib/consistency/sticky-policy';
import { WriteTracker } from '../../lib/consistency/write-tracker';
import type { Node } from '../../lib/route/node';
import { RequestScope } from '../../lib/route/request-scope';
import type { Statement } from '../../lib/route/statement';

// Fakes at the seams: nodes are names, replica probes answer from a table, the primary's
// shared position read answers `primaryAt` (counted), and the clock is a number the test moves.
const node = (name: string, role = 'replica') => ({ name, role }) as unknown as Node;
const primary = node('primary', 'primary');
const r1 = node('r1');
const r2 = node('r2');

function setup(raw: Record<string, unknown> = {}) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const options = normalizeConsistencyConfig({ ...raw, clock });
  const readings = new Map<Node, ReplicaReading>();
  const probes: PositionProbes & { calls: number; primaryLsn: bigint } = {
    calls: 0,
    primaryLsn: 0x100n,
    async replica(n) { probes.calls++; return readings.get(n) ?? { replayLsn: undefined, replayAgeMs: undefined }; },
    async primary() { return probes.primaryLsn; },
  };
  const shared = { at: 0x1000n, sent: 0 };
  const commits = new CommitPositions(async () => { shared.sent++; return shared.at; });
  const scope = new RequestScope();
  const scopes = new ConsistencyScopes(scope, options, () => undefined, commits);
  const counters = new ConsistencyCounters();
  const positions = new ReplicaPositions(() => primary, [r1, r2], probes, { pollIntervalMs: 1000, pollTimeoutMs: 200, clock });
  const causal = new WeakSet<Statement>();
  const busy = { primary: false };
  const sticky = new StickyPolicy({ options, scopes, positions, commits, counters, causal, tablesOf: () => [], primaryDown: () => false, primaryBusy: () => busy.primary });
  const staleness = new StalenessPolicy(positions, counters, clock, causal);
  const tracker = new WriteTracker(options, scopes, commits, () => true);
  const commit = () => tracker.afterWrite({ node: primary, tables: ['t'], broad: false, inTransaction: false, statements: [], query: async () => ({ rows: [] }), commitPosition: () => Promise.reject(new Error('not per write')) });
  const poll = async (r1At: bigint | undefined, r2At: bigint | undefined, r2AgeMs = 1) => {
    readings.set(r1, { replayLsn: r1At, replayAgeMs: 1 });
    readings.set(r2, { replayLsn: r2At, replayAgeMs: r2AgeMs });
    await positions.pollAll();
  };
  return { clock, options, scopes, counters, positions, sticky, staleness, commit, shared, probes, poll, commits, busy };
}

function read(extra: Partial<Statement> = {}): Statement {
  return { kind: 'query', method: 'select', sql: 'select * from "t" where "id" = ?', lock: undefined, hint: undefined, table: 't', ...extra };
}

async function verdict(policy: { check(s: Statement, c: readonly Node[]): unknown }, s = read(), candidates: readonly Node[] = [r1, r2]) {
  const v = await policy.check(s, candidates);
  if (typeof v === 'function') return candidates.filter(v as (n: Node) => boolean).map((n) => n.name);
  return v;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await settle();
  expect(done()).to.equal(true);
}

describe('consistency: a write whose position is pending', () => {
  it('sends the scope reads to the primary at once with no I/O on the read path; a later read asks for the position once, then takes replicas that replayed it', async () => {
    const t = setup();
    await t.poll(0x1000n, 0x10n);
    t.commit();
    expect(t.shared.sent).to.equal(0);
    const calls = t.probes.calls;
    const first = t.sticky.check(read(), [r1, r2]);
    const second = t.sticky.check(read(), [r1, r2]);
    expect([first, second]).to.deep.equal(Array(2).fill("read-your-writes: the write's WAL position is being read"));
    expect(t.shared.sent).to.equal(0); // the read path does no I/O for it
    expect(t.probes.calls).to.equal(calls);
    t.clock.t += YOUNG_WRITE_MS; // a later read of the scope asks for the position (one shared read) and decides
    expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    expect(t.shared.sent).to.equal(1);
    expect(t.counters.pendingPrimaryReads).to.equal(2);
  });

  it('with maxWaitMs, a read waits for the shared position read within its budget and may then take a replica', async () => {
    const t = setup({ sticky: { maxWaitMs: 500 } });
    await t.poll(0x1000n, 0x1000n);
    t.commit();
    expect(await verdict(t.sticky)).to.equal(undefined); // both replicas replayed 0/1000
    expect(t.shared.sent).to.equal(1);
  });

  it('a read needs only the writes that returned before it started: one committing while it waits for the position does not send it to the primary', async () => {
    const t = setup({ sticky: { maxWaitMs: 500 } });
    await t.poll(0x1000n, 0x1000n);
    t.commit();
    const waiting = verdict(t.sticky); // sends the shared read (covers commit 1 only)
    expect(t.shared.sent).to.equal(1);
    t.commit(); // another request of the instance writes while the read waits
    expect(await waiting).to.equal(undefined); // both replicas replayed 0/1000, commit 1's bound
    expect(t.counters.pendingPrimaryReads).to.equal(0);
    // The next read started after commit 2 returned: it needs commit 2's position (a new shared read).
    t.shared.at = 0x2000n;
    await t.poll(0x2000n, 0x1000n);
    expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    expect(t.shared.sent).to.equal(2);
  });

  it('with the default maxWaitMs, a read that would queue for a busy primary waits for the position and a caught-up replica instead', async () => {
    const t = setup();
    await t.poll(0x1000n, 0x1000n);
    t.commit();
    t.busy.primary = true; // every primary connection of the instance is in use
    expect(await verdict(t.sticky)).to.equal(undefined); // both replicas replayed 0/1000
    expect(t.shared.sent).to.equal(1);
    expect({ busy: t.counters.busyPrimaryWaits, pending: t.counters.pendingPrimaryReads }).to.deep.equal({ busy: 1, pending: 0 });
    // A free primary connection again: the next young write's reads go to the primary at once.
    t.busy.primary = false;
    t.commit();
    expect(await verdict(t.sticky)).to.equal("read-your-writes: the write's WAL position is being read");
    expect(t.shared.sent).to.equal(1);
  });

  it('an explicit maxWaitMs: 0 never waits, busy primary or not', async () => {
    const t = setup({ sticky: { maxWaitMs: 0 } });
    await t.poll(0x1000n, 0x1000n);
    t.commit();
    t.busy.primary = true;
    expect(await verdict(t.sticky)).to.equal("read-your-writes: the write's WAL position is being read");
    expect(t.shared.sent).to.equal(0);
    expect(t.counters.busyPrimaryWaits).to.equal(0);
  });

  it('a token minted while the position is pending never waits; the scope that applies it asks its own primary position', async () => {
    const a = setup();
    const b = setup();
    a.commit(); // in a's instance-wide scope
    const token = a.scopes.token();
    expect(decodeConsistencyToken(token).pendingAt).to.equal(a.clock.t);
    await b.poll(0x1000n, 0x10n);
    b.shared.at = 0x2000n; // b's primary has moved on since: b requires that (stricter, never looser)
    b.clock.t += YOUNG_WRITE_MS; // the token arrives a little later (a young write would send the read to the primary at once)
    await b.scopes.run(async () => {
      expect(await verdict(b.sticky)).to.match(/^causal: no replica has replayed 0\/2000 /);
    }, { token });
    // Once a's position is known, its token carries it.
    await a.commits.request(1);
    expect(decodeConsistencyToken(a.scopes.token()).lsn).to.equal(0x1000n);
  });

  it('applyPosition adds an LSN from elsewhere (text or bigint) to the scope; a malformed one throws ESPLIT_TOKEN', async () => {
    const t = setup({ sticky: { scope: 'none' } });
    await t.poll(0x16B3748n, 0x10n);
    await t.scopes.run(async () => {
      t.scopes.applyPosition('0/16B3748');
      expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    });
    await t.scopes.run(async () => {
      t.scopes.applyPosition(0x16B3749n);
      expect(await verdict(t.sticky)).to.match(/^causal: no replica has replayed 0\/16B3749/);
    });
    expect(() => t.scopes.run(() => t.scopes.applyPosition('16B3748/zz' as string))).to.throw(SplitKnexError).with.property('code', 'ESPLIT_TOKEN');
    expect(() => t.scopes.applyPosition('0/1')).to.throw(SplitKnexError, /no consistency scope/);
  });
});

describe('consistency: monotonic reads per scope', () => {
  it('once a scope read at position P, replicas known to be behind P are skipped for its later reads', async () => {
    const t = setup();
    await t.poll(0x3000n, 0x2000n);
    await t.scopes.run(async () => {
      expect(await verdict(t.sticky)).to.equal(undefined); // no requirement yet
      t.scopes.own()!.noteSeen(0x3000n); // what the routed stage records after a read on r1
      expect(await verdict(t.sticky)).to.deep.equal(['r1']);
      expect(t.counters.monotonicSkips).to.equal(1);
    });
    await t.scopes.run(async () => expect(await verdict(t.sticky)).to.equal(undefined)); // another scope: no floor
  });
});

describe('consistency: sticky.maxWaitMs waits only when a replica is predicted to catch up', () => {
  // Replica positions read at clock times the test sets: the replay rate is measured between them.
  async function behind(t: ReturnType<typeof setup>, r1Before: bigint, r1After: bigint) {
    t.probes.primaryLsn = 0x100000n;
    await t.poll(r1Before, undefined);
    t.clock.t += 1000;
    await t.poll(r1After, undefined);
  }

  it('goes to the primary at once when the replica replays nothing (paused): no wait, no probe', async () => {
    const t = setup({ sticky: { maxWaitMs: 1000 } });
    await behind(t, 0x8000n, 0x8000n);
    t.shared.at = 0x9000n;
    const calls = t.probes.calls;
    await t.scopes.run(async () => {
      t.commit();
      // The budget left after the position read is a figure, never asserted.
      expect(await verdict(t.sticky, read(), [r1])).to.match(/^causal: no replica has replayed 0\/9000 \(no replica is predicted to replay it within \d+ ms\)$/);
    });
    expect(t.counters.causalWaits).to.equal(0);
    expect(t.probes.calls).to.equal(calls);
  });

  it('goes to the primary at once when the measured rate needs longer than the budget (a delayed replica)', async () => {
    const t = setup({ sticky: { maxWaitMs: 1000 } });
    await behind(t, 0x8000n, 0x8400n); // 1 KiB/s
    t.shared.at = 0x10000n; // 31 KiB ahead: ~31 s at that rate
    await t.scopes.run(async () => {
      t.commit();
      expect(await verdict(t.sticky, read(), [r1])).to.match(/predicted to replay it within/);
    });
    expect(t.counters.causalWaits).to.equal(0);
  });

  it('reads waiting for the same replica share its position probes: one at a time for all of them, not one each', async () => {
    const t = setup({ sticky: { maxWaitMs: 1000 } });
    await behind(t, 0x8000n, 0x10000n); // 32 KiB/s
    t.shared.at = 0x10100n; // 256 bytes ahead: ~8 ms
    // The replica answers only when the test says so: the probes of the waiting reads overlap.
    const held: Array<() => void> = [];
    const answer = t.probes.replica;
    t.probes.replica = async (n, ms) => {
      await new Promise<void>((resolve) => held.push(resolve));
      return answer.call(t.probes, n, ms);
    };
    const reads = Array.from({ length: 8 }, () => t.scopes.run(async () => {
      t.commit();
      return verdict(t.sticky, read(), [r1]);
    }));
    await until(() => t.counters.causalWaits === 8);
    await settle();
    // Before: each read sent its own probe until two were unanswered, and the others went on
    // without a reading.
    expect(held.length).to.equal(1);
    t.probes.replica = answer;
    const polled = t.poll(0x10100n, undefined); // the replica caught up; the probe answers it
    for (const release of held.splice(0)) release();
    await polled;
    expect(await Promise.all(reads)).to.deep.equal(Array(8).fill(undefined));
  });

  it('a waiting read takes the first replica that reports the write replayed, without waiting for one slow to answer', async () => {
    const t = setup({ sticky: { maxWaitMs: 30_000 } });
    await behind(t, 0x8000n, 0x10000n); // r1: 32 KiB/s, predicted to catch up at once
    t.shared.at = 0x10100n;
    // r1 answers that it replayed the write; r2 (a node out of CPU quota) answers only when released.
    const r2Held: Array<() => void> = [];
    t.probes.replica = async (n) => {
      if (n === r2) await new Promise<void>((resolve) => r2Held.push(resolve));
      return { replayLsn: 0x10100n, replayAgeMs: 1 };
    };
    const reading = t.scopes.run(async () => {
      t.commit();
      return verdict(t.sticky, read(), [r1, r2]);
    });
    try {
      expect(await reading).to.deep.equal(['r1']);
      // Before: the read waited for every replica's answer, so for r2 until its probe gave
      // up (pollTimeoutMs) and recorded the error.
      expect(r2Held.length).to.equal(1); // r2 has still not answered
      expect(t.positions.stats().find((x) => x.name === 'r2')!.lastError).to.equal(null);
    } finally {
      for (const release of r2Held.splice(0)) release();
    }
    expect(t.counters.causalWaits).to.equal(1);
  });

  it('waits when the rate says the replica catches up within the budget, and takes it', async () => {
    const t = setup({ sticky: { maxWaitMs: 1000 } });
    await behind(t, 0x8000n, 0x10000n); // 32 KiB/s
    t.shared.at = 0x10100n; // 256 bytes ahead: ~8 ms
    setTimeout(() => void t.poll(0x10100n, undefined), 20);
    await t.scopes.run(async () => {
      t.commit();
      expect(await verdict(t.sticky, read(), [r1])).to.equal(undefined);
    });
    expect(t.counters.causalWaits).to.equal(1);
  });
});

describe('consistency: per-query staleness bound', () => {
  it('lets a read go only to replicas whose lag plus the age of its measurement is within the bound, else the primary', async () => {
    const t = setup();
    t.probes.primaryLsn = 0x2000n;
    await t.poll(0x2000n, 0x1000n, 500);
    // r1 replayed everything: stale by at most the age of that reading; r2 is 500 ms behind.
    expect(await verdict(t.staleness, read({ maxStalenessMs: 100 }))).to.deep.equal(['r1']);
    t.clock.t += 150; // the measurement ages: r1 is now only known to be within 150 ms
    expect(await verdict(t.staleness, read({ maxStalenessMs: 100 }))).to.equal('maxStaleness: no replica is known to be within 100 ms');
    expect(await verdict(t.staleness, read({ maxStalenessMs: 5000 }))).to.equal(undefined); // both within: no filter
    expect(await verdict(t.staleness, read())).to.equal(undefined); // no bound: not this policy's business
    expect([t.counters.boundedReplicaReads, t.counters.boundedPrimaryReads]).to.deep.equal([2, 1]);
  });

  it('counts the primary (when it takes a read share) as never stale', async () => {
    const t = setup();
    expect(await verdict(t.staleness, read({ maxStalenessMs: 0 }), [r1, primary])).to.deep.equal(['primary']);
  });
});
