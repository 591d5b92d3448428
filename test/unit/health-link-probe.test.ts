import { expect } from 'chai';
import { EventEmitter } from 'events';
import { BackgroundLink, type LinkClientFactory } from '../../lib/background/background-link';
import { LinkProbe, PROBE_SQL } from '../../lib/health/link-probe';
import { swapPool as drainPool } from '../../lib/knex/node-pool';
import type { KnexClient, PooledConnection } from '../../lib/knex/knex-internals';

type Behaviour = 'ok' | 'standby' | 'hang' | 'fail';

/** A stand-in for pg.Client: each instance takes the next scripted behaviour. */
function fakePg(script: Array<{ connect: Behaviour; query: Behaviour }>) {
  const made: Array<{ config: Record<string, unknown>; ended: boolean; queries: string[] }> = [];
  class Client extends EventEmitter {
    private readonly plan = script[made.length] ?? { connect: 'ok' as Behaviour, query: 'ok' as Behaviour };
    private readonly record = { config: {} as Record<string, unknown>, ended: false, queries: [] as string[] };
    private reject: ((err: Error) => void) | undefined;
    // node-postgres's EventEmitter-based client: the link listens for 'error' and 'end'.
    constructor(config: Record<string, unknown>) {
      super();
      this.record.config = config;
      made.push(this.record);
    }
    connect(): Promise<void> { return this.step(this.plan.connect, undefined); }
    query(text: string): Promise<{ rows: Array<Record<string, unknown>> }> {
      this.record.queries.push(text);
      const row = this.plan.query === 'standby' ? { in_recovery: true, read_only: 'on' } : { in_recovery: false, read_only: 'off' };
      return this.step(this.plan.query, { rows: [row] });
    }
    async end(): Promise<void> {
      this.record.ended = true;
      this.reject?.(new Error('Connection terminated'));
    }
    private step<T>(b: Behaviour, value: T): Promise<T> {
      if (b === 'hang') return new Promise<T>((_, reject) => { this.reject = reject; });
      if (b === 'fail') return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      return Promise.resolve(value);
    }
  }
  const create: LinkClientFactory = (config) => new Client(config as Record<string, unknown>) as unknown as ReturnType<LinkClientFactory>;
  return { create, made };
}

const settings = async () => ({ connectionString: 'postgres://app:pw@h/db' });
// The probe of one node over a background link the probe owns (as a multi-host primary's hosts do).
const probeOver = (pg: ReturnType<typeof fakePg>, timeoutMs: number): { probe: LinkProbe; link: BackgroundLink } => {
  const link = new BackgroundLink({ node: 'h:5432', settings, timeoutMs, createClient: pg.create, applicationName: 'split-knex health' });
  return { probe: new LinkProbe(link, timeoutMs, true), link };
};

describe('health: the probe connection (a background link)', () => {
  it('asks role and writability with one query over its own client, bounded by the timeout, and keeps it open', async () => {
    const pg = fakePg([{ connect: 'ok', query: 'standby' }]);
    const { probe } = probeOver(pg, 500);
    expect(await probe.probe()).to.deep.include({ inRecovery: true, readOnly: true });
    await probe.probe();
    expect(pg.made).to.have.length(1);
    expect(pg.made[0]!.queries).to.deep.equal([PROBE_SQL, PROBE_SQL]);
    expect(pg.made[0]!.config).to.include({ connectionString: 'postgres://app:pw@h/db', connectionTimeoutMillis: 500, application_name: 'split-knex health' });
    probe.close();
    await new Promise((r) => setImmediate(r));
    expect(pg.made[0]!.ended).to.equal(true);
  });

  it('rejects within the timeout when the server accepts the connection but never answers, and drops that connection', async () => {
    const pg = fakePg([{ connect: 'ok', query: 'hang' }]);
    const { probe } = probeOver(pg, 50);
    const err = await probe.probe().then(() => undefined, (e: unknown) => e as { code?: string; message: string });
    expect(err?.code).to.equal('ETIMEDOUT');
    expect(err?.message).to.equal('h:5432: no answer within 50 ms');
    expect(pg.made[0]!.ended).to.equal(true);
  });

  it('rejects within the timeout when connecting hangs, and ends the connecting client', async () => {
    const pg = fakePg([{ connect: 'hang', query: 'ok' }]);
    const { probe } = probeOver(pg, 50);
    const err = await probe.probe().then(() => undefined, (e: unknown) => e as { code?: string });
    expect(err?.code).to.equal('ETIMEDOUT');
    expect(pg.made[0]!.ended).to.equal(true);
  });

  it('close() while a connect is in flight ends that client: destroy() leaves no socket behind', async () => {
    const pg = fakePg([{ connect: 'hang', query: 'ok' }]);
    const { probe, link } = probeOver(pg, 10_000);
    const pending = probe.probe().then(() => undefined, (e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    expect(pg.made).to.have.length(1);
    await link.close();
    expect(pg.made[0]!.ended).to.equal(true);
    expect(await pending).to.be.instanceOf(Error); // the probe in flight fails; it never hangs
    // And nothing connects after close().
    const after = await probe.probe().then(() => undefined, (e: unknown) => e as { code?: string });
    expect(after?.code).to.equal('ESPLIT_DESTROYED');
    expect(pg.made).to.have.length(1);
  });

  it('a kept connection that fails (the server restarted) is replaced within the same probe before the node is blamed', async () => {
    const pg = fakePg([{ connect: 'ok', query: 'ok' }, { connect: 'ok', query: 'ok' }]);
    const { probe, link } = probeOver(pg, 500);
    await probe.probe();
    // Make the kept client fail its next query.
    const kept = (link as unknown as { client: { query: () => Promise<never> } }).client;
    kept.query = () => Promise.reject(new Error('Client has encountered a connection error and is not queryable'));
    expect(await probe.probe()).to.deep.include({ inRecovery: false });
    expect(pg.made).to.have.length(2);
    expect(pg.made[0]!.ended).to.equal(true);
  });

  it('a refused connection fails the probe with the driver error', async () => {
    const pg = fakePg([{ connect: 'fail', query: 'ok' }]);
    const { probe } = probeOver(pg, 500);
    const err = await probe.probe().then(() => undefined, (e: unknown) => e as { code?: string });
    expect(err?.code).to.equal('ECONNREFUSED');
  });
});

describe('health: draining a pool', () => {
  function fakeClient() {
    const pools: Array<{ released: unknown[]; destroyed: boolean; used: Array<{ resource: PooledConnection & { end(): Promise<void> } }>; owns: Set<unknown> }> = [];
    const client = {
      config: { pool: {} },
      pool: undefined as unknown,
      initializePool() {
        const pool = {
          released: [] as unknown[], destroyed: false, used: [] as Array<{ resource: PooledConnection & { end(): Promise<void> } }>, owns: new Set<unknown>(),
          release(c: unknown) { if (!pool.owns.has(c)) return false; pool.released.push(c); return true; },
          async destroy() { pool.destroyed = true; },
        };
        pools.push(pool);
        client.pool = pool;
      },
    };
    client.initializePool();
    return { client: client as unknown as KnexClient, pools };
  }

  it('swaps in a fresh pool, destroys the old one, and hands the old pool its own connections back', () => {
    const { client, pools } = fakeClient();
    const ends: string[] = [];
    const inFlight = { end: async () => { ends.push('in-flight'); } } as unknown as PooledConnection & { end(): Promise<void> };
    pools[0]!.used.push({ resource: inFlight });
    pools[0]!.owns.add(inFlight);
    expect(drainPool(client, { closeInFlight: false })).to.equal(true);
    expect(pools).to.have.length(2);
    expect(client.pool).to.equal(pools[1]);
    expect(pools[0]!.destroyed).to.equal(true);
    expect(ends).to.deep.equal([]);
    // The connection comes back through knex, which releases to client.pool (the fresh one).
    expect((client.pool as unknown as { release(c: unknown): boolean }).release(inFlight)).to.equal(true);
    expect(pools[0]!.released).to.deep.equal([inFlight]);
  });

  it('with closeInFlight, ends the connections checked out of the old pool (their queries fail and are retried)', () => {
    const { client, pools } = fakeClient();
    let ended = 0;
    pools[0]!.used.push({ resource: { end: async () => { ended++; } } as unknown as PooledConnection & { end(): Promise<void> } });
    drainPool(client, { closeInFlight: true });
    expect(ended).to.equal(1);
  });

  it('leaves a pool the user owns (connectionPool) alone', () => {
    const { client, pools } = fakeClient();
    (client.config as Record<string, unknown>).connectionPool = {};
    expect(drainPool(client, { closeInFlight: true })).to.equal(false);
    expect(pools).to.have.length(1);
  });
});
