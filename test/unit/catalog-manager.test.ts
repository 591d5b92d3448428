import { expect } from 'chai';
import createDebug from 'debug';
import { format } from 'util';
import type { ClassifyOptions } from '../../lib/classify';
import { classifySql } from '../../lib/classify';
import { CatalogManager, normalizeCatalogConfig, type CatalogRows, type CatalogTimers } from '../../lib/catalog';
import type { CommittedWrite } from '../../lib/subsystem';

class FakeTimers implements CatalogTimers {
  t = 0;
  private seq = 0;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    this.pending.set(++this.seq, { at: this.t + ms, fn });
    return this.seq;
  };
  clearTimeout = (h: unknown): void => {
    this.pending.delete(h as number);
  };
  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const [id, p] of [...this.pending]) if (p.at <= this.t) { this.pending.delete(id); p.fn(); }
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** What the manager touches: the writer and its background connection; `extras` is the classifier input it gives. */
function fakeCore() {
  const state = { manager: undefined as CatalogManager | undefined, acquired: 0, released: 0, get extras(): Partial<ClassifyOptions> {
    return state.manager?.classifyOptions() ?? {};
  } };
  const node = {};
  const core = {
    writer: () => node,
    link: () => { state.acquired++; state.released++; return {}; },
  } as unknown as ConstructorParameters<typeof CatalogManager>[0];
  return { core, state };
}

const rowsV1: CatalogRows = {
  role: 'app', schemas: ['pg_catalog', 'public'],
  functions: [{ schema: 'public', name: 'price', args: '23', volatility: 's' }],
  relations: [{ schema: 'public', name: 'cache', persistence: 'u' }],
};
const rowsV2: CatalogRows = { ...rowsV1, functions: [{ schema: 'public', name: 'price', args: '23', volatility: 'v' }] };

function writeInfo(extra: Partial<CommittedWrite> & { sql?: string } = {}): CommittedWrite {
  const { sql, ...rest } = extra;
  return {
    node: {} as CommittedWrite['node'], tables: [], broad: true, inTransaction: false, statements: sql === undefined ? [] : [sql],
    commitPosition: () => Promise.resolve(0n), query: () => Promise.resolve({ rows: [] }), ...rest,
  };
}

describe('CatalogManager', () => {
  let timers: FakeTimers;
  let logs: string[];
  const originalLog = createDebug.log;
  beforeEach(() => {
    timers = new FakeTimers();
    logs = [];
    createDebug.enable('split-knex:catalog');
    createDebug.log = (...args: unknown[]) => { logs.push(format(...args)); };
  });
  afterEach(() => {
    createDebug.disable();
    createDebug.log = originalLog;
  });

  it('routes conservatively until loaded, then hands the catalog to the classifier and releases the connection', async () => {
    const { core, state } = fakeCore();
    let rows = rowsV1;
    const m = new CatalogManager(core, normalizeCatalogConfig('auto', true), timers, async () => rows);
    state.manager = m;
    expect(state.extras.catalog).to.equal(undefined);
    expect(m.stats()).to.deep.include({ state: 'loading', version: 0, loads: 0 });
    m.refresher.start();
    await timers.advance(499);
    expect(state.acquired).to.equal(0); // the first load waits for the first statement, or 500 ms
    await timers.advance(1);
    expect(state.extras.catalog).to.equal(m.live);
    expect([state.acquired, state.released]).to.deep.equal([1, 1]);
    expect(classifySql('select price(1)', state.extras).target).to.equal('replica');
    expect(classifySql('select * from cache', state.extras).target).to.equal('primary');
    await timers.advance(1500);
    expect(m.stats()).to.deep.include({ state: 'ready', version: 1, loads: 1, functions: 1, unloggedRelations: 1, ageMs: 1500, loadMs: 0 });
    expect(m.stats().searchPath).to.deep.equal(['pg_catalog', 'public']);
    rows = rowsV2;
    await timers.advance(60_000);
    expect(m.stats()).to.deep.include({ version: 2, loads: 2 });
    expect(classifySql('select price(1)', state.extras).target).to.equal('primary');
    await m.refresher.stop();
  });

  it('logs a failure once per run of failures, keeps the conservative rules, and retries', async () => {
    const { core, state } = fakeCore();
    let fail = true;
    const m = new CatalogManager(core, normalizeCatalogConfig('auto', true), timers, async () => {
      if (fail) throw new Error('permission denied for table pg_proc');
      return rowsV1;
    });
    state.manager = m;
    m.refresher.start();
    m.noteStatement('select 1'); // the first statement completed: load now
    await timers.advance(0);
    await timers.advance(1000);
    await timers.advance(2000);
    expect(logs.filter((l) => l.includes('catalog load failed'))).to.have.length(1);
    expect(logs[0]).to.include('permission denied').and.include('conservative routing');
    expect(state.extras.catalog).to.equal(undefined);
    expect(m.stats()).to.deep.include({ state: 'unavailable', failures: 3, consecutiveFailures: 3 });
    fail = false;
    await timers.advance(4000);
    expect(state.extras.catalog).to.equal(m.live);
    expect(logs.some((l) => l.includes('loaded again after 3 failed attempts'))).to.equal(true);
    await m.refresher.stop();
  });

  it('never makes a write wait for the first load when nothing changed', async () => {
    const { core, state } = fakeCore();
    const pending: Array<{ connection: unknown; release: () => void }> = [];
    const m = new CatalogManager(core, normalizeCatalogConfig('auto', true), timers,
      (connection) => new Promise((resolve) => pending.push({ connection, release: () => resolve(rowsV1) })));
    state.manager = m;
    m.refresher.start();
    m.noteStatement('select 1');
    await timers.advance(0);
    expect(m.refresher.loading).to.equal(true);
    expect(m.afterWrite(writeInfo({ sql: 'insert into t values (1)', broad: false }))).to.equal(undefined);
    // DDL during the first load: the write waits for a load that began after it, on its own connection.
    m.noteStatement('create function f() returns int language sql as $$select 1$$');
    const held = writeInfo({ broad: true, sql: 'create function f() returns int language sql as $$select 1$$' });
    const wait = m.afterWrite(held);
    expect(wait).to.be.instanceOf(Promise);
    expect(pending).to.have.length(2);
    expect(pending[1]!.connection).to.equal(held);
    expect(state.acquired).to.equal(1); // only the first load used the background connection
    pending[1]!.release();
    await wait;
    expect(m.stats()).to.deep.include({ loads: 1, state: 'ready' });
    pending[0]!.release(); // the older read ends last: it must not replace the newer answers
    await flush();
    expect(m.stats().loads).to.equal(1);
    m.refresher.stop();
  });

  it('after DDL, makes the write wait for a reload; a write that changed nothing waits for nothing', async () => {
    const { core, state } = fakeCore();
    let rows = rowsV1;
    const m = new CatalogManager(core, normalizeCatalogConfig('auto', true), timers, async () => rows);
    state.manager = m;
    m.refresher.start();
    await timers.advance(500);
    expect(m.afterWrite(writeInfo({ sql: 'insert into t values (1)', broad: false }))).to.equal(undefined);
    expect(m.afterWrite(writeInfo({ sql: 'select price(1)' }))).to.equal(undefined);
    rows = rowsV2;
    const wait = m.afterWrite(writeInfo({ sql: 'create or replace function price(int) returns int volatile language sql as $$select 1$$' }));
    expect(wait).to.be.instanceOf(Promise);
    await wait;
    expect(classifySql('select price(1)', state.extras).target).to.equal('primary');
    expect(m.live.version).to.equal(2);
    await m.refresher.stop();
  });

  it('reloads after a transaction whose statements include DDL, and after DDL seen completing', async () => {
    const { core } = fakeCore();
    let loads = 0;
    const m = new CatalogManager(core, normalizeCatalogConfig('auto', true), timers, async () => { loads++; return rowsV1; });
    m.refresher.start();
    await timers.advance(500);
    expect(loads).to.equal(1);
    expect(m.afterWrite(writeInfo({ inTransaction: true, broad: false, statements: ['insert into t values (1)'] }))).to.equal(undefined);
    await m.afterWrite(writeInfo({ inTransaction: true, broad: true, statements: ['insert into t values (1)', 'create table u (id int)'] }));
    expect(loads).to.equal(2);
    m.noteStatement('alter table t set unlogged');
    await m.afterWrite(writeInfo({ broad: false, tables: ['t'] }));
    expect(loads).to.equal(3);
    expect(m.afterWrite(writeInfo({ broad: false, tables: ['t'] }))).to.equal(undefined);
    await m.refresher.stop();
  });

  it('reloads in the background after a replica refused a statement, at most once a second', async () => {
    const { core } = fakeCore();
    let loads = 0;
    const m = new CatalogManager(core, normalizeCatalogConfig('auto', true), timers, async () => { loads++; return rowsV1; });
    m.noteMisroute(); // not started, nothing installed: nothing to correct
    m.refresher.start();
    await timers.advance(500);
    expect(loads).to.equal(1);
    await timers.advance(1000);
    m.noteMisroute();
    await timers.advance(0);
    expect(loads).to.equal(2);
    m.noteMisroute(); // within a second of the last load: deferred to a second after it
    m.noteMisroute();
    await flush();
    expect(loads).to.equal(2);
    await timers.advance(999);
    expect(loads).to.equal(2);
    await timers.advance(1);
    expect(loads).to.equal(3);
    await timers.advance(60_000); // the interval, unchanged
    expect(loads).to.equal(4);
    await m.refresher.stop();
  });

  it('drops answers known to be stale when the reload after DDL fails, and keeps them when an interval reload fails', async () => {
    const { core, state } = fakeCore();
    let fail = false;
    const m = new CatalogManager(core, normalizeCatalogConfig({ refreshMs: 5000 }, true), timers, async () => {
      if (fail) throw new Error('connection terminated');
      return rowsV1;
    });
    state.manager = m;
    m.refresher.start();
    await timers.advance(500);
    fail = true;
    await timers.advance(5000); // interval reload fails: nothing known changed
    expect(state.extras.catalog).to.equal(m.live);
    expect(m.stats().state).to.equal('ready');
    await m.afterWrite(writeInfo({ sql: 'drop function price(int)' })); // never rejects
    expect(state.extras.catalog).to.equal(undefined);
    expect(m.stats()).to.deep.include({ state: 'unavailable', lastError: 'connection terminated' });
    let refreshError: unknown;
    await m.refresh().catch((e: unknown) => { refreshError = e; });
    expect((refreshError as Error).message).to.equal('connection terminated');
    fail = false;
    await m.refresh();
    expect(state.extras.catalog).to.equal(m.live);
    await m.refresher.stop();
  });
});
