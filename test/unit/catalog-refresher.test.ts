import { expect } from 'chai';
import { CatalogRefresher, type CatalogRefresherOptions, type CatalogTimers } from '../../lib/catalog';

/** Timers the test moves by hand: `advance(ms)` fires what is due. */
class FakeTimers implements CatalogTimers {
  t = 0;
  private seq = 0;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.pending.delete(h as number);
  };
  /** The delays of the timers waiting now, from now. */
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.at - this.t);
  }
  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const [id, p] of [...this.pending]) {
      if (p.at <= this.t) {
        this.pending.delete(id);
        p.fn();
      }
    }
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A load the test finishes by hand; it begins reading at once unless told otherwise. */
function gatedLoads(beginAtOnce = true) {
  const calls: Array<{ resolve: () => void; reject: (e: unknown) => void; begin: () => void; connection: unknown }> = [];
  const load = (connection: unknown, begin: () => void) => new Promise<void>((resolve, reject) => {
    if (beginAtOnce) begin();
    calls.push({ resolve, reject, begin, connection });
  });
  return { calls, load };
}

describe('CatalogRefresher', () => {
  let timers: FakeTimers;
  const failures: Array<{ n: number; retryIn: number; stale: boolean }> = [];
  beforeEach(() => {
    timers = new FakeTimers();
    failures.length = 0;
  });
  const make = (load: CatalogRefresherOptions['load'], refreshMs = 60_000) => new CatalogRefresher({
    load, refreshMs, timers, onFailure: (_e, n, retryIn, stale) => failures.push({ n, retryIn, stale }),
  });

  it('loads once in the background at start, then on the interval', async () => {
    const g = gatedLoads();
    const r = make(g.load, 5000);
    r.start();
    expect(g.calls).to.have.length(0); // nothing synchronous at construction/start
    await timers.advance(0);
    expect(g.calls).to.have.length(1);
    g.calls[0]!.resolve();
    await flush();
    expect(timers.delays()).to.deep.equal([5000]);
    await timers.advance(5000);
    expect(g.calls).to.have.length(2);
    g.calls[1]!.resolve();
    await r.stop();
  });

  it('backs off 1 s, 2 s, 4 s… after failures, capped by the interval, and reports stale answers', async () => {
    const g = gatedLoads();
    const r = make(g.load, 3000);
    r.start();
    await timers.advance(0);
    g.calls[0]!.reject(new Error('down'));
    await flush();
    expect(timers.delays()).to.deep.equal([1000]);
    await timers.advance(1000);
    g.calls[1]!.reject(new Error('down'));
    await flush();
    expect(timers.delays()).to.deep.equal([2000]);
    await timers.advance(2000);
    g.calls[2]!.reject(new Error('down'));
    await flush();
    expect(timers.delays()).to.deep.equal([3000]);
    expect(failures.map((f) => f.n)).to.deep.equal([1, 2, 3]);
    await timers.advance(3000);
    g.calls[3]!.resolve();
    await flush();
    expect(r.failures).to.equal(0);
    expect(timers.delays()).to.deep.equal([3000]);
    await r.stop();
    expect(timers.delays()).to.deep.equal([]);
  });

  it('shares a load with whoever waits for a change it covers, and queues one more load for a change made after it started', async () => {
    const g = gatedLoads();
    const r = make(g.load);
    const first = r.refresh();           // change 1: load A starts (covers 1)
    expect(g.calls).to.have.length(1);
    const again = r.ensure(1);           // satisfied by A
    expect(again).to.equal(first);
    r.noteChange();                      // change 2 happened after A started
    let waitedDone = false;
    const waited = r.ensure(2).then(() => { waitedDone = true; });
    const waited2 = r.ensure(2);         // shares the queued load
    g.calls[0]!.resolve();
    await first;
    await flush();
    expect(waitedDone).to.equal(false);  // A cannot include change 2
    expect(g.calls).to.have.length(2);   // B started right after A
    g.calls[1]!.resolve();
    await waited;
    await waited2;
    expect(r.covered).to.equal(2);
    expect(g.calls).to.have.length(2);
    await r.ensure(2);                   // already covered: no load
    expect(g.calls).to.have.length(2);
  });

  it('lets a pool load that has not begun reading cover the changes noted before it does', async () => {
    const g = gatedLoads(false);
    const r = make(g.load);
    const first = r.refresh();      // waiting for a pool connection
    r.noteChange();
    expect(r.ensure(2)).to.equal(first);
    g.calls[0]!.begin();            // reads now: sees change 2
    g.calls[0]!.resolve();
    await first;
    expect(r.covered).to.equal(2);
    expect(g.calls).to.have.length(1);
  });

  it('runs a load on the caller\'s held connection at once, not behind a pool load waiting for a connection', async () => {
    const g = gatedLoads(false);
    const r = make(g.load);
    r.refresh().catch(() => undefined); // a pool load stuck waiting (the pool's last connection is held)
    const held = { pg: 'held' };
    const seq = r.noteChange();
    const viaHeld = r.ensure(seq, held as never);
    expect(g.calls).to.have.length(2);
    expect(g.calls[1]!.connection).to.equal(held);
    g.calls[1]!.begin();
    g.calls[1]!.resolve();
    await viaHeld;
    expect(r.covered).to.equal(seq);
    g.calls[0]!.reject(new Error('acquire timeout'));
  });

  it('rejects the callers of a failed load and says the answers are known stale after a change', async () => {
    const g = gatedLoads();
    const r = make(g.load);
    r.start();
    const p = r.refresh();
    g.calls[0]!.reject(new Error('boom'));
    let err: unknown;
    await p.catch((e: unknown) => { err = e; });
    expect((err as Error).message).to.equal('boom');
    expect(failures).to.deep.equal([{ n: 1, retryIn: 1000, stale: true }]);
    expect(r.covered).to.equal(0);
    r.stop();
  });

  it('stops scheduling after stop(), without waiting for the load in flight', async () => {
    const g = gatedLoads();
    const r = make(g.load, 1000);
    r.start();
    await timers.advance(0);
    r.stop();
    g.calls[0]!.reject(new Error('pool destroyed'));
    await flush();
    expect(timers.delays()).to.deep.equal([]);
    await timers.advance(5000);
    expect(g.calls).to.have.length(1);
  });

  it('has no interval with refreshMs 0 but still retries failures', async () => {
    const g = gatedLoads();
    const r = make(g.load, 0);
    r.start();
    await timers.advance(0);
    g.calls[0]!.resolve();
    await flush();
    expect(timers.delays()).to.deep.equal([]);
    r.refresh().catch(() => undefined);
    g.calls[1]!.reject(new Error('x'));
    await flush();
    expect(timers.delays()).to.deep.equal([1000]);
    await r.stop();
  });

  it('waits initialDelayMs for the first load unless soon() brings it forward, once', async () => {
    const g = gatedLoads();
    const r = new CatalogRefresher({ load: g.load, refreshMs: 60_000, initialDelayMs: 500, timers, onFailure: () => undefined });
    r.start();
    await timers.advance(100);
    expect(g.calls).to.have.length(0);
    r.soon();
    r.soon();
    await timers.advance(0);
    expect(g.calls).to.have.length(1);
    g.calls[0]!.resolve();
    await flush();
    r.soon(); // later statements do not reschedule anything
    expect(timers.delays()).to.deep.equal([60_000]);
    await r.stop();
  });
});
