import { expect } from 'chai';
import knex from 'knex';
import { describeBuilder } from '../../lib/knex/describe-builder';
import {
  BaseClient, ClientPG, emitStart, knexEnsureConnectionCallback, knexEnsureConnectionStreamCallback, makeKnex, Runner, runCompiled,
  streamOn, TransactionPG, untilIdle,
  type BuilderInternals, type PooledConnection, type RunnerInternals, type StreamParams,
} from '../../lib/knex/knex-internals';
import { Client as PgClient } from 'pg';
import { PassThrough, Transform } from 'stream';

// These tests fail when a knex release moves one of the internals split-knex builds on.
describe('knex seams split-knex relies on', () => {
  const db = knex({ client: 'pg' });
  const describeOf = (b: unknown) => describeBuilder(b as BuilderInternals, (b as BuilderInternals).toSQL());

  it('exposes the classes and functions lib/knex imports', () => {
    expect(ClientPG).to.be.a('function');
    expect(new ClientPG({ client: 'pg' })).to.be.instanceOf(BaseClient);
    for (const m of ['run', 'query', 'queryArray', 'ensureConnection', 'stream']) expect(Runner.prototype).to.have.property(m).that.is.a('function');
    for (const m of ['acquireConnection', 'commit', '_onAcquire', 'query']) expect(TransactionPG.prototype).to.have.property(m).that.is.a('function');
    for (const m of ['acquireConnection', 'releaseConnection', 'runner', 'transaction', 'cancelQuery', 'initializePool', 'destroy']) {
      expect(BaseClient.prototype).to.have.property(m).that.is.a('function');
    }
    expect(makeKnex).to.be.a('function');
  });

  it('runCompiled does what knex ensureConnectionCallback does, given the compiled SQL', async () => {
    const trace = (): { calls: string[]; runner: RunnerInternals } => {
      const calls: string[] = [];
      const builder = db('users').where({ id: 1 }) as unknown as BuilderInternals;
      const client = { emit: (e: string) => calls.push(`client:${e}`), logger: { debug() {} } };
      builder.on('start', () => calls.push('builder:start'));
      const runner = {
        client, builder,
        query: async (q: { sql: string }) => calls.push(`query:${q.sql}`),
        queryArray: async () => calls.push('queryArray'),
      } as unknown as RunnerInternals;
      return { calls, runner };
    };
    const a = trace();
    await knexEnsureConnectionCallback(a.runner);
    const b = trace();
    emitStart(b.runner);
    await runCompiled(b.runner, b.runner.builder.toSQL());
    expect(b.calls).to.deep.equal(a.calls);
    expect(a.calls).to.deep.equal(['client:start', 'builder:start', 'query:select * from "users" where "id" = ?']);
  });

  it('reads method, lock, table and hint off query builders', () => {
    expect(describeOf(db('users').where({ id: 1 }))).to.deep.include({ kind: 'query', method: 'select', lock: undefined, table: 'users' });
    expect(describeOf(db('users').first())).to.deep.include({ method: 'first' });
    expect(describeOf(db('users').pluck('id'))).to.deep.include({ method: 'pluck' });
    expect(describeOf(db('users').insert({ a: 1 }))).to.deep.include({ method: 'insert' });
    expect(describeOf(db('users').update({ a: 1 }))).to.deep.include({ method: 'update' });
    expect(describeOf(db('users').del())).to.deep.include({ method: 'del' });
    expect(describeOf(db('users').truncate())).to.deep.include({ method: 'truncate' });
    expect(describeOf(db('users').columnInfo())).to.deep.include({ method: 'columnInfo' });
    expect(describeOf(db('users').forUpdate())).to.deep.include({ lock: 'forUpdate' });
    expect(describeOf(db('users').forShare().noWait())).to.deep.include({ lock: 'forShare' });
    expect(describeOf(db('users').forNoKeyUpdate())).to.deep.include({ lock: 'forNoKeyUpdate' });
    expect(describeOf(db('users').forKeyShare().skipLocked())).to.deep.include({ lock: 'forKeyShare' });
    expect(describeOf(db('users').queryContext({ splitKnex: { target: 'primary' } }))).to.deep.include({ hint: 'primary' });
    expect(describeOf(db('users').queryContext({ splitKnex: { target: 'elsewhere' } }))).to.deep.include({ hint: undefined });
  });

  it('reads raw and schema builders', () => {
    expect(describeOf(db.raw('select ?', [1]))).to.deep.include({ kind: 'raw', method: 'raw', sql: 'select ?' });
    const schema = describeOf(db.schema.createTable('t', (t) => { t.increments(); t.text('a'); }));
    expect(schema.kind).to.equal('schema');
    expect(schema.sql).to.match(/^create table "t"/);
  });

  it('compiles a data-modifying CTE into the SQL the classifier sees', () => {
    const s = describeOf(db.with('x', db('a').insert({ v: 1 }).returning('id')).select('*').from('x'));
    expect(s.method).to.equal('select');
    expect(s.sql).to.match(/with "x" as \(insert into "a"/);
  });

  describe('streams', () => {
    const traceStream = (connection: unknown) => {
      const calls: unknown[] = [];
      const builder = db('users').where({ id: 1 }) as unknown as BuilderInternals;
      const client = { stream: async (...args: unknown[]) => calls.push(args) };
      const params = { stream: new PassThrough(), options: { highWaterMark: 5 }, hasHandler: false } as unknown as StreamParams;
      return { calls, params, runner: { client, builder, connection } as unknown as RunnerInternals };
    };

    it('streamOn does what knex ensureConnectionStreamCallback does, on the connection passed in', async () => {
      const conn = { __knexUid: 'c1' } as PooledConnection;
      const a = traceStream(conn);
      await knexEnsureConnectionStreamCallback(a.runner, a.params);
      const b = traceStream(undefined);
      await streamOn(b.runner, conn, b.params);
      // Each compile gets a fresh random __knexQueryUid.
      const shape = (calls: unknown[]) => JSON.stringify(calls).replace(/"__knexQueryUid":"[^"]*"/g, '');
      expect(shape(b.calls)).to.equal(shape(a.calls));
      expect((a.calls[0] as unknown[])[0]).to.equal(conn);
    });

    it("knex's Runner#stream: a Transform without _flush, releasing runner.connection on 'close'", () => {
      const released: unknown[] = [];
      const client = {
        postProcessResponse: (r: unknown) => r,
        releaseConnection: (c: unknown) => released.push(c),
      };
      const runner = new Runner(client, db('users')) as RunnerInternals & { stream(): Transform };
      runner.ensureConnection = () => new Promise(() => undefined);
      const stream = runner.stream();
      expect(stream).to.be.instanceOf(Transform);
      expect((stream as unknown as { _flush?: unknown })._flush).to.equal(undefined);
      runner.connection = { __knexUid: 'c2' } as PooledConnection;
      stream.destroy();
      return new Promise<void>((resolve) => stream.on('close', () => {
        expect(released).to.deep.equal([{ __knexUid: 'c2' }]);
        resolve();
      }));
    });

    it("a Transform ends only after an instance _flush calls back (how a routed stream's 'end' is held)", async () => {
      const t = new Transform({ objectMode: true, transform: (c, _e, cb) => cb(null, c) });
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => (release = r));
      (t as unknown as { _flush: (cb: () => void) => void })._flush = (cb) => void held.then(cb);
      const seen: string[] = [];
      t.on('data', () => seen.push('data'));
      t.on('end', () => seen.push('end'));
      t.end({ a: 1 });
      await new Promise((r) => setImmediate(r));
      expect(seen).to.deep.equal(['data']);
      release();
      await new Promise((r) => t.once('end', r));
      expect(seen).to.deep.equal(['data', 'end']);
    });

    it("untilIdle reads pg's _getActiveQuery() and waits for its 'drain'", async () => {
      const pg = new PgClient();
      expect((pg as unknown as { _getActiveQuery: () => unknown })._getActiveQuery()).to.equal(null);
      await untilIdle(pg as unknown as PooledConnection);
      let busy: unknown = {};
      const fake = Object.assign(new PassThrough(), { _getActiveQuery: () => busy });
      let done = false;
      const waiting = untilIdle(fake as unknown as PooledConnection).then(() => (done = true));
      await new Promise((r) => setImmediate(r));
      expect(done).to.equal(false);
      busy = null;
      fake.emit('drain');
      await waiting;
    });
  });

  it('knex keeps an async stack on builders and cuts `lines` frames off it (QueryBuilder 5, Raw 4)', () => {
    const k = knex({ client: 'pg', asyncStackTraces: true });
    const qb = k('users') as unknown as { _asyncStack?: { error: Error; lines: number } };
    const raw = k.raw('select 1') as unknown as { _asyncStack?: { error: Error; lines: number } };
    expect(qb._asyncStack?.lines).to.equal(5);
    expect(qb._asyncStack?.error).to.be.instanceOf(Error);
    expect(raw._asyncStack?.lines).to.equal(4);
  });
});
