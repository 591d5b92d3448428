import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import { CommitPositions } from '../../lib/consistency/commit-positions';
import { normalizeConsistencyConfig } from '../../lib/consistency/consistency-config';
import { ConsistencyCounters } from '../../lib/consistency/consistency-counters';
import { ConsistencyScopes } from '../../lib/consistency/consistency-scopes';
import { LagPolicy } from '../../lib/consistency/lag-policy';
import { linkPositionProbes, type PositionProbes, type ReplicaReading } from '../../lib/consistency/position-probe';
import { BackgroundLinks } from '../../lib/background/background-links';
import { ConnectionResolver } from '../../lib/background/connection-resolver';
import { ReplicaPositions } from '../../lib/consistency/replica-positions';
import { StickyPolicy } from '../../lib/consistency/sticky-policy';
import { parseLsn } from '../../lib/wal-position';
import { WriteTracker } from '../../lib/consistency/write-tracker';
import type { Node } from '../../lib/route/node';
import { RequestScope } from '../../lib/route/request-scope';
import type { Statement } from '../../lib/route/statement';
import type { CommittedWrite as WriteInfo } from '../../lib/subsystem';

// Fakes at the seams: nodes are keys with names, probes answer from a table the test
// controls, the clock is a number, and the "connection" answers the capture query.
const node = (name: string) => ({ name }) as unknown as Node;
const primary = node('primary');
const r1 = node('r1');
const r2 = node('r2');

class FakeProbes implements PositionProbes {
  readings = new Map<Node, ReplicaReading | Error>();
  primaryLsn: bigint | undefined = 100n;
  calls = 0;
  async replica(n: Node): Promise<ReplicaReading> {
    this.calls++;
    const r = this.readings.get(n);
    if (r instanceof Error) throw r;
    return r ?? { replayLsn: undefined, replayAgeMs: undefined };
  }
  async primary(): Promise<bigint | undefined> {
    return this.primaryLsn;
  }
}

function read(sql = 'select * from "orders"'): Statement {
  return { kind: 'query', method: 'select', sql, lock: undefined, hint: undefined, table: 'orders' };
}

// The write's own facts; the consistency subsystem never asks its connection for a position.
const writeFacts: Pick<WriteInfo, 'statements' | 'query' | 'commitPosition'> = {
  statements: [],
  query: () => Promise.resolve({ rows: [] }),
  commitPosition: () => Promise.reject(new Error('the consistency subsystem must not read a position per write')),
};

/** The primary's position as the shared reader sees it: what the next read answers, and how many were sent. */
class FakePrimaryReads {
  answer: bigint | Error = 0n;
  sent = 0;
  read = (): Promise<bigint> => {
    this.sent++;
    const a = this.answer;
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
}

function setup(raw: Record<string, unknown> = {}) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const options = normalizeConsistencyConfig({ ...raw, clock });
  const scope = new RequestScope();
  const counters = new ConsistencyCounters();
  const probes = new FakeProbes();
  const positions = new ReplicaPositions(() => primary, [r1, r2], probes, { pollIntervalMs: 100, pollTimeoutMs: 200, clock });
  const causal = new WeakSet<Statement>();
  const warnings: string[] = [];
  const primaryReads = new FakePrimaryReads();
  const commits = new CommitPositions(primaryReads.read, (err) => warnings.push(String(err)));
  const scopes = new ConsistencyScopes(scope, options, () => undefined, commits);
  const tracker = new WriteTracker(options, scopes, commits, () => true);
  const health = { primaryDown: false, primaryBusy: false };
  const sticky = new StickyPolicy({
    options, scopes, positions, commits, counters, causal, tablesOf: (s) => (s.table === undefined ? [] : [s.table]),
    primaryDown: () => health.primaryDown, primaryBusy: () => health.primaryBusy,
  });
  const lag = new LagPolicy(options, positions, counters, causal, () => health.primaryDown);
  // A write commits (no I/O), then, as the background read would, the shared reader reads the
  // primary's position: `lsn` (or fails). `commitOnly` leaves the position pending.
  const commit = (tables: string[] = ['orders']) =>
    tracker.afterWrite({ node: primary, tables, broad: false, ...writeFacts, inTransaction: false });
  const write = async (lsn: string | Error = '0/1000', tables: string[] = ['orders']) => {
    primaryReads.answer = lsn instanceof Error ? lsn : parseLsn(lsn)!;
    commit(tables);
    const state = scopes.current();
    if (state !== undefined && state.pending !== 0) await commits.request(state.pending);
  };
  return { clock, options, scopes, counters, probes, positions, sticky, lag, tracker, write, commit, commits, primaryReads, warnings, scope, health };
}

async function verdict(policy: { check(s: Statement, c: readonly Node[]): unknown }, s = read(), candidates: readonly Node[] = [r1, r2]) {
  const v = await policy.check(s, candidates);
  if (typeof v === 'function') return candidates.filter(v as (n: Node) => boolean).map((n) => n.name);
  return v;
}

describe('sticky policy: window mode', () => {
  it('sends reads to the primary for windowMs after a write, then back to replicas', async () => {
    const t = setup({ sticky: { mode: 'window', windowMs: 2000 } });
    expect(await verdict(t.sticky)).to.equal(undefined);
    await t.write();
    expect(await verdict(t.sticky)).to.equal('sticky window (2000 ms left)');
    t.clock.t += 1999;
    expect(await verdict(t.sticky)).to.equal('sticky window (1 ms left)');
    t.clock.t += 1;
    expect(await verdict(t.sticky)).to.equal(undefined);
    expect(t.counters.stickyPrimaryReads).to.equal(2);
    expect(t.probes.calls).to.equal(0);
  });

  it('per table: only reads of a written table stick', async () => {
    const t = setup({ sticky: { mode: 'window', perTable: true } });
    await t.write('0/1', ['orders']);
    expect(await verdict(t.sticky, read())).to.match(/^sticky window/);
    expect(await verdict(t.sticky, { ...read('select * from users'), table: 'users' })).to.equal(undefined);
    expect(await verdict(t.sticky, { ...read('select 1'), table: undefined })).to.match(/^sticky window/);
  });

  it('a broad write (tables unknown or DDL) sticks every read, per table or not', async () => {
    const t = setup({ sticky: { mode: 'window', perTable: true } });
    await t.tracker.afterWrite({ node: primary, tables: [], broad: true, ...writeFacts, inTransaction: true });
    expect(await verdict(t.sticky, { ...read('select * from users'), table: 'users' })).to.match(/^sticky window/);
  });

  it('keeps scopes apart: a write in one scope does not stick reads of another', async () => {
    const t = setup({ sticky: { mode: 'window', scope: 'none' } });
    await t.scopes.run(async () => {
      await t.write();
      expect(await verdict(t.sticky)).to.match(/^sticky window/);
    });
    await t.scopes.run(async () => expect(await verdict(t.sticky)).to.equal(undefined));
    // Outside any scope with scope 'none': nothing is recorded, nothing sticks.
    await t.write();
    expect(await verdict(t.sticky)).to.equal(undefined);
  });

  it('while the primary is down, a sticky read goes to the replicas (and is counted)', async () => {
    const t = setup({ sticky: { mode: 'window' } });
    await t.write();
    t.health.primaryDown = true;
    expect(await verdict(t.sticky)).to.equal(undefined);
    expect(t.counters).to.deep.include({ primaryDownReads: 1, stickyPrimaryReads: 0 });
  });

  it('mode none records nothing', async () => {
    const t = setup({ sticky: { mode: 'none' } });
    await t.write();
    expect(await verdict(t.sticky)).to.equal(undefined);
  });
});

describe('sticky policy: LSN mode', () => {
  it('lets a read go only to replicas that replayed the write, from the cache', async () => {
    const t = setup();
    await t.write('0/1000');
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 1 });
    t.probes.readings.set(r2, { replayLsn: 0xfffn, replayAgeMs: 1 });
    await t.positions.pollAll();
    expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    expect(t.counters.causalWaits).to.equal(0); // answered from the cache: the read waited for nothing
    expect(t.counters.causalReplicaReads).to.equal(1);
    expect(t.commits.reads).to.equal(1);
  });

  it('allows every replica (no filter) once all have caught up', async () => {
    const t = setup();
    await t.write('0/1000');
    t.probes.readings.set(r1, { replayLsn: 0x2000n, replayAgeMs: 1 });
    t.probes.readings.set(r2, { replayLsn: 0x1000n, replayAgeMs: 1 });
    await t.positions.pollAll();
    expect(await t.sticky.check(read(), [r1, r2])).to.equal(undefined);
  });

  it('refreshes positions on demand when the cache is behind the write and a replica is predicted to have replayed it', async () => {
    const t = setup();
    t.probes.primaryLsn = 0x10n;
    t.probes.readings.set(r1, { replayLsn: 0x10n, replayAgeMs: 1 }); // caught up with an idle primary
    await t.positions.pollAll();
    await t.write('0/1000');
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 1 }); // caught up since the last poll
    expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    expect(t.counters.causalWaits).to.equal(1);
  });

  it('uses the primary when no replica caught up, after one refresh (maxWaitMs 0)', async () => {
    const t = setup();
    await t.write('0/1000');
    t.probes.readings.set(r1, { replayLsn: 0x10n, replayAgeMs: 1 });
    t.probes.readings.set(r2, { replayLsn: 0x10n, replayAgeMs: 1 });
    // The reason names the time it waited: a figure, never asserted.
    expect(await verdict(t.sticky)).to.match(/^causal: no replica has replayed 0\/1000 \(waited \d+ ms\)$/);
    expect(t.counters.causalPrimaryReads).to.equal(1);
  });

  it('while the primary is down, prefers a caught-up replica, else takes any replica', async () => {
    const t = setup();
    await t.write('0/1000');
    t.health.primaryDown = true;
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 1 });
    t.probes.readings.set(r2, { replayLsn: 0x10n, replayAgeMs: 1 });
    expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    t.probes.readings.set(r1, { replayLsn: 0x10n, replayAgeMs: 1 });
    await t.positions.pollAll();
    expect(await verdict(t.sticky)).to.equal(undefined);
    expect(t.counters.primaryDownReads).to.equal(1);
  });

  it('waits up to maxWaitMs for a replica to catch up', async () => {
    const t = setup({ sticky: { maxWaitMs: 1000 } });
    await t.write('0/1000');
    t.probes.readings.set(r1, { replayLsn: 0x10n, replayAgeMs: 1 });
    setTimeout(() => t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 1 }), 40);
    expect(await verdict(t.sticky)).to.deep.equal(['r1']);
    expect(t.counters.causalWaits).to.equal(1);
  });

  it('a replica that does not answer costs a read at most the first-refresh bound (maxWaitMs 0)', async () => {
    const t = setup({ lag: { pollTimeoutMs: 5000 } });
    t.probes.primaryLsn = 0x10n;
    t.probes.readings.set(r1, { replayLsn: 0x10n, replayAgeMs: 1 });
    await t.positions.pollAll();
    await t.write('0/1000');
    t.probes.replica = () => new Promise(() => undefined); // paused: never answers
    // It answers at all (a hang fails the test by its timeout), and sends the read to the primary.
    expect(await verdict(t.sticky, read(), [r1])).to.match(/^causal: no replica has replayed 0\/1000/);
  });

  it('never accepts a replica that is not replaying (a promoted node) as caught up', async () => {
    const t = setup({ sticky: { windowMs: 500 } });
    await t.write('0/1000');
    // Both answer "not in recovery": no position to prove anything: a window from the write.
    expect(await verdict(t.sticky)).to.match(/^sticky window \(500 ms left; no replica reports/);
    t.clock.t += 500;
    expect(await verdict(t.sticky)).to.equal(undefined);
  });

  it('a failing position read keeps the scope on the primary for windowMs at most, is said once, and never switches the instance out of LSN mode', async () => {
    const t = setup({ sticky: { windowMs: 700 } });
    const refused = Object.assign(new Error('recovery is in progress'), { code: '55000' });
    await t.write(refused);
    await t.write(refused);
    expect(t.tracker.effectiveMode).to.equal('lsn');
    expect(t.tracker.lsnUnavailable).to.contain('recovery is in progress');
    expect(t.warnings).to.have.length(1);
    expect(t.commits.failures).to.equal(2); // each request reads again: the failure is transient
    expect(await verdict(t.sticky)).to.equal("read-your-writes: the write's WAL position is being read");
    t.clock.t += 700; // no position within windowMs: the write's window has ended
    expect(await verdict(t.sticky)).to.equal(undefined);
    expect(t.counters.lsnCaptureFailures).to.equal(1);
    // The next write whose position is read goes back to positions; the last failure is forgotten.
    await t.write('0/2000');
    expect(t.tracker.lsnUnavailable).to.equal(undefined);
    expect(t.commits.reads).to.equal(1);
  });

  it('a write whose position is unknown is never hidden by an older known position', async () => {
    const t = setup();
    await t.write('0/1000');
    await t.write(new Error('boom'));
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 1 });
    await t.positions.pollAll();
    expect(await verdict(t.sticky)).to.equal("read-your-writes: the write's WAL position is being read");
  });
});

describe('tokens and scopes', () => {
  it('carries a scope to another instance: the importing scope waits for the same position', async () => {
    const a = setup();
    const b = setup();
    const token = await a.scopes.run(async () => {
      await a.write('0/5000');
      return a.scopes.token();
    });
    b.probes.readings.set(r1, { replayLsn: 0x4000n, replayAgeMs: 1 });
    b.probes.readings.set(r2, { replayLsn: 0x5000n, replayAgeMs: 1 });
    await b.positions.pollAll();
    await b.scopes.run(async () => expect(await verdict(b.sticky)).to.deep.equal(['r2']), { token });
    await b.scopes.run(async () => expect(await verdict(b.sticky)).to.equal(undefined)); // a fresh scope has no requirement
  });

  it('caps an imported window at this instance windowMs (a forged token cannot pin a scope for long)', () => {
    const t = setup({ sticky: { mode: 'window', windowMs: 1000 } });
    const forged = Buffer.from(JSON.stringify({ v: 1, u: 9_999_999_999_999 })).toString('base64url');
    t.scopes.run(() => expect(t.scopes.current()!.windowLeft(t.clock.t, undefined)).to.equal(1000), { token: forged });
  });

  it('refuses to apply a token where there is no scope to hold it', () => {
    const t = setup({ sticky: { scope: 'none' } });
    expect(() => t.scopes.applyToken(t.scopes.token())).to.throw(SplitKnexError).with.property('code', 'ESPLIT_TOKEN');
  });

  it('joins an outer scope: a nested runInContext shares its writes', async () => {
    const t = setup({ sticky: { mode: 'window', scope: 'none' } });
    await t.scopes.run(async () => {
      await t.scopes.run(() => t.write());
      expect(await verdict(t.sticky)).to.match(/^sticky window/);
    });
  });

  it('reset forgets the scope state; the global state is the default outside scopes', async () => {
    const t = setup({ sticky: { mode: 'window' } });
    await t.write();
    expect(await verdict(t.sticky)).to.match(/^sticky window/);
    t.scopes.reset();
    expect(await verdict(t.sticky)).to.equal(undefined);
  });

  it('middleware: one scope per request, a bad token goes to next(err) before the handler', async () => {
    const t = setup({ sticky: { mode: 'window', scope: 'none' } });
    const mw = t.scopes.middleware<{ token?: string }, unknown>({ token: (req) => req.token });
    const seen: unknown[] = [];
    await new Promise<void>((resolve) => mw({}, {}, (err) => {
      seen.push(err, t.scopes.current() !== undefined);
      resolve();
    }));
    await new Promise<void>((resolve) => mw({ token: 'garbage!' }, {}, (err) => {
      seen.push((err as SplitKnexError).code);
      resolve();
    }));
    expect(seen).to.deep.equal([undefined, true, 'ESPLIT_TOKEN']);
  });
});

describe('lag policy and positions', () => {
  it('skips a replica that lags more than maxLagMs for reads without a causal requirement', async () => {
    const t = setup({ lag: { maxLagMs: 100 } });
    t.probes.primaryLsn = 0x2000n;
    t.probes.readings.set(r1, { replayLsn: 0x2000n, replayAgeMs: 60_000 }); // idle primary: old timestamp, same position
    t.probes.readings.set(r2, { replayLsn: 0x1000n, replayAgeMs: 500 });
    await t.positions.pollAll();
    expect(t.positions.lag(r1)).to.deep.equal({ bytes: 0, ms: 0 });
    expect(t.positions.lag(r2)).to.deep.equal({ bytes: 0x1000, ms: 500 });
    expect(await verdict(t.lag)).to.deep.equal(['r1']);
    expect(t.counters.lagSkippedReads).to.equal(1);
  });

  it('bounds time lag by when the primary was last seen at the replica position (idle, then one write)', async () => {
    const t = setup({ lag: { maxLagMs: 100 } });
    t.probes.primaryLsn = 0x1000n;
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 3_600_000 });
    await t.positions.pollAll();
    t.clock.t += 50;
    t.probes.primaryLsn = 0x1100n; // one write after an hour of nothing
    await t.positions.pollAll();
    expect(t.positions.lag(r1)).to.deep.equal({ bytes: 0x100, ms: 50 });
  });

  it('sends reads to the primary when every replica lags; or errors; or waits', async () => {
    const t = setup({ lag: { maxLagBytes: 10 } });
    t.probes.primaryLsn = 0x2000n;
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 5 });
    t.probes.readings.set(r2, { replayLsn: 0x1000n, replayAgeMs: 5 });
    await t.positions.pollAll();
    expect(await verdict(t.lag)).to.match(/^lag: every replica is too far behind \(r1: 5 ms, 4096 bytes/);
    expect(t.counters.lagPrimaryReads).to.equal(1);

    const e = setup({ lag: { maxLagBytes: 10, onExceeded: 'error' } });
    e.probes.primaryLsn = 0x2000n;
    e.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 5 });
    await e.positions.pollAll();
    expect(() => e.lag.check(read(), [r1])).to.throw(SplitKnexError).with.property('code', 'ESPLIT_NO_REPLICA');

    const w = setup({ lag: { maxLagBytes: 10, onExceeded: 'wait', maxWaitMs: 2000 } });
    w.probes.primaryLsn = 0x2000n;
    w.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 5 });
    await w.positions.pollAll();
    setTimeout(() => w.probes.readings.set(r1, { replayLsn: 0x2000n, replayAgeMs: 5 }), 50);
    expect(await verdict(w.lag, read(), [r1])).to.deep.equal(['r1']);
    expect(w.counters.lagWaits).to.equal(1);
  });

  it('leaves reads alone that a caught-up replica serves causally, however far behind it is otherwise', async () => {
    const t = setup({ lag: { maxLagBytes: 10 } });
    await t.write('0/1000');
    t.probes.primaryLsn = 0x9000n;
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 5 });
    await t.positions.pollAll();
    const s = read();
    expect(await verdict(t.sticky, s, [r1])).to.equal(undefined);
    expect(await t.lag.check(s, [r1])).to.equal(undefined);
    expect(await verdict(t.lag, read(), [r1])).to.match(/^lag:/); // another read, no causal requirement
  });

  it('forgets a position when the replica stops answering', async () => {
    const t = setup();
    t.probes.readings.set(r1, { replayLsn: 0x1000n, replayAgeMs: 5 });
    await t.positions.pollAll();
    expect(t.positions.replayed(r1)).to.equal(0x1000n);
    t.probes.readings.set(r1, new Error('ECONNREFUSED'));
    await t.positions.refresh(r1);
    expect(t.positions.replayed(r1)).to.equal(undefined);
    expect(t.positions.stats()[0]).to.include({ name: 'r1', replayLsn: null, lastError: 'ECONNREFUSED' });
  });

  it('the position probe runs on the background link, which ends a connection whose query hangs and rejects', async () => {
    const events: string[] = [];
    let fail: (e: Error) => void = () => undefined;
    const client = {
      connect: async () => { events.push('connect'); },
      query: () => new Promise<never>((_, reject) => { fail = reject; }),
      end: async () => { events.push('end'); fail(new Error('Connection terminated')); },
      on: () => client,
    };
    const fakeNode = { name: 'r9' } as unknown as Node;
    const links = new BackgroundLinks([[fakeNode, new ConnectionResolver('postgres://app@127.0.0.1:1/app')]], { timeoutMs: 60, createClient: () => client });
    const outcome = await linkPositionProbes(links).replica(fakeNode, 60).then(() => 'answered', (e: Error) => e.message);
    expect(outcome).to.equal('r9: no answer within 60 ms');
    expect(events).to.deep.equal(['connect', 'end']);
    expect(links.stats()[0]).to.deep.include({ node: 'r9', connected: false, connects: 1, failures: 1 });
  });

  it('polls in the background while started, and not after stop() (restartable, as initialize() does)', async () => {
    const probes = new FakeProbes();
    probes.readings.set(r1, { replayLsn: 0x10n, replayAgeMs: 1 });
    const positions = new ReplicaPositions(() => primary, [r1], probes, { pollIntervalMs: 10, pollTimeoutMs: 100, clock: Date });
    positions.start();
    await new Promise((resolve) => setTimeout(resolve, 80));
    await positions.stop();
    const calls = probes.calls;
    expect(calls).to.be.above(2);
    expect(positions.replayed(r1)).to.equal(0x10n);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(probes.calls).to.equal(calls);
    positions.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await positions.stop();
    expect(probes.calls).to.be.above(calls);
  });

  it('a new writer (a failover) voids every replica reading, and a probe sent before it does not count', async () => {
    const probes = new FakeProbes();
    probes.readings.set(r1, { replayLsn: 0x500n, replayAgeMs: 1 });
    let writer: Node = primary;
    const positions = new ReplicaPositions(() => writer, [r1], probes, { pollIntervalMs: 1000, pollTimeoutMs: 200, clock: Date });
    await positions.refresh(r1);
    expect(positions.replayed(r1)).to.equal(0x500n);
    // A probe in flight when the writer changes: r1 was ahead of the promoted node, it rewinds,
    // and positions past the fork on the new timeline reuse the numbers it reported.
    let answer!: (r: ReplicaReading) => void;
    probes.replica = () => new Promise<ReplicaReading>((resolve) => { answer = resolve; });
    const inFlight = positions.refresh(r1);
    writer = r2;
    expect(positions.replayed(r1)).to.equal(undefined);
    answer({ replayLsn: 0x600n, replayAgeMs: 1 });
    await inFlight;
    expect(positions.replayed(r1)).to.equal(undefined);
    expect(positions.predictReplayAt(r1, 0x100n)).to.equal(undefined);
    probes.replica = async () => ({ replayLsn: 0x300n, replayAgeMs: 1 });
    await positions.refresh(r1);
    expect(positions.replayed(r1)).to.equal(0x300n);
  });

  it('a replica that joins at run time is asked for its position at once, not at the next round', async () => {
    const probes = new FakeProbes();
    probes.readings.set(r1, { replayLsn: 0x10n, replayAgeMs: 1 });
    probes.readings.set(r2, { replayLsn: 0x20n, replayAgeMs: 1 });
    const positions = new ReplicaPositions(() => primary, [r1], probes, { pollIntervalMs: 60_000, pollTimeoutMs: 200, clock: Date });
    positions.start();
    await positions.ready();
    positions.addReplica(r2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(positions.replayed(r2)).to.equal(0x20n);
    await positions.stop();
  });

  it('bounds a probe that never answers by pollTimeoutMs', async () => {
    const t = setup();
    t.probes.replica = () => new Promise(() => undefined);
    await t.positions.refresh(r1);
    expect(t.positions.stats()[0]!.lastError).to.contain('no answer within 200 ms');
  });
});
