import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import { connectionErrorKind, describeError } from '../../lib/health/connection-error';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('health: which errors are connection failures', () => {
  const node: Array<[string, unknown]> = [
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['connection reset', withCode('ECONNRESET', 'read ECONNRESET')],
    ['a connect timeout (node-postgres)', new Error('timeout expired')],
    ['a terminated connection', new Error('select 1 - Connection terminated unexpectedly')],
    ['a connection knex marked disposed', new Error('Connection ended unexpectedly')],
    ['admin shutdown 57P01', withCode('57P01', 'terminating connection due to administrator command')],
    ['crash shutdown 57P02', withCode('57P02')],
    ['cannot connect now 57P03', withCode('57P03', 'the database system is starting up')],
    ['too many connections 53300', withCode('53300')],
    ['class 08 connection exceptions', withCode('08006')],
    ['an unreachable host', withCode('EHOSTUNREACH')],
    ['an AggregateError of refused addresses', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''), {})],
    ['a wrapped cause', new Error('outer', { cause: withCode('ECONNRESET') })],
    ['our own ESPLIT_PRIMARY_DOWN', new SplitKnexError('ESPLIT_PRIMARY_DOWN', 'down')],
  ];
  for (const [what, err] of node) {
    it(`${what} is a node failure`, () => expect(connectionErrorKind(err)).to.equal('node'));
  }

  const sql: Array<[string, unknown]> = [
    ['undefined table 42P01', withCode('42P01', 'relation "x" does not exist')],
    ['unique violation 23505', withCode('23505')],
    ['read-only transaction 25006 (a misroute, not a dead node)', withCode('25006')],
    ['statement timeout 57014', withCode('57014')],
    ['serialization failure 40001', withCode('40001')],
    ["knex's own query timeout", Object.assign(new Error('Defined query timeout of 100ms exceeded when running query.'), { name: 'KnexTimeoutError' })],
    ['a plain error', new Error('boom')],
    ['a non-object', 'connection terminated'],
    ['our other errors', new SplitKnexError('ESPLIT_NO_REPLICA', 'none')],
  ];
  for (const [what, err] of sql) {
    it(`${what} is not a connection failure`, () => expect(connectionErrorKind(err)).to.equal(undefined));
  }

  it("a full pool (knex's acquire timeout) or a drained pool's abort is a pool wait, not a node failure", () => {
    const full = Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' });
    expect(connectionErrorKind(full)).to.equal('pool');
    expect(connectionErrorKind(new Error('aborted'))).to.equal('pool');
  });

  it('describes an error without the SQL and bindings knex prefixed, and without passwords', () => {
    expect(describeError(new Error("select * from users where email = 'ada@example.com' - Connection terminated unexpectedly"))).to.equal('Connection terminated unexpectedly');
    expect(describeError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432'))).to.equal('connect ECONNREFUSED 10.0.0.1:5432');
    expect(describeError(withCode('57P01', 'terminating connection due to administrator command'))).to.equal('57P01: terminating connection due to administrator command');
    expect(describeError(new Error('cannot reach postgres://app:hunter2@db:5432/app'))).to.equal('cannot reach postgres://app:***@db:5432/app');
    expect(describeError(new Error('x'.repeat(500))).length).to.equal(200);
  });
});
