import { expect } from 'chai';
import knex from 'knex';
import { describeBuilder } from '../../lib/knex/describe-builder';
import {
  BaseClient, ClientPG, emitStart, knexEnsureConnectionCallback, makeKnex, Runner, runCompiled, TransactionPG,
  type BuilderInternals, type RunnerInternals,
} from '../../lib/knex/knex-internals';

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
});
