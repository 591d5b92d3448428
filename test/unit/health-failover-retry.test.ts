import { expect } from 'chai';
import { SplitKnexError } from '../../lib';
import { avoidSuspectReplicas } from '../../lib/health/avoid-suspect';
import { failoverRetry, type RetryCounters } from '../../lib/health/failover-retry';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';
import { createSelector } from '../../lib/route/replica-selector';
import { Router, type RouteDecision } from '../../lib/route/router';
import type { Statement } from '../../lib/route/statement';
import type { FailedAttempt } from '../../lib/subsystem';

const stmt: Statement = { kind: 'query', method: 'select', sql: 'select * from t', lock: undefined, hint: undefined, table: 't' };
const code = (c: string, message = c) => Object.assign(new Error(message), { code: c });
const reset = () => code('ECONNRESET', 'read ECONNRESET');

function setup(fallback: 'primary' | 'error' = 'primary') {
  const client = {} as KnexClient;
  const primary = new Node('primary', 'primary', 0, client);
  const r1 = new Node('r1', 'replica', 1, client);
  const r2 = new Node('r2', 'replica', 1, client);
  const router = new Router({
    primary, replicas: [r1, r2], selector: createSelector('round-robin'),
    classify: (s) => ({ access: s.method === 'insert' ? 'write' : 'read', reason: s.method, tables: ['t'] }), fallback, forcePrimary: () => false,
  });
  const counters: RetryCounters = { retries: 0, retriedOnPrimary: 0, primaryDown: 0 };
  const refused: Node[] = [];
  const policy = failoverRetry({ router, counters, retryReads: true, onWriterRefused: (n) => { refused.push(n); } });
  const fail = (over: Partial<FailedAttempt> & { node: Node }) => {
    const decision: RouteDecision = { node: over.node, access: 'read', reason: 'read (select)', tables: ['t'] };
    return policy({ decision, statement: stmt, err: reset(), attempt: 1, phase: 'query', streaming: false, bound: false, ...over });
  };
  return { primary, r1, r2, router, counters, fail, refused };
}

describe('health: the retry policy', () => {
  it('runs a read that lost its connection once more on another replica', () => {
    const s = setup();
    const d = s.fail({ node: s.r1 }) as RouteDecision;
    expect(d.node).to.equal(s.r2);
    expect(d.reason).to.equal('retry after read ECONNRESET on r1: select');
    expect(s.counters.retries).to.equal(1);
  });

  it('skips replicas that are not up (a suspect one may be dying too) and then uses the primary', () => {
    const s = setup();
    s.r2.state = 'suspect';
    const d = s.fail({ node: s.r1 }) as RouteDecision;
    expect(d.node).to.equal(s.primary);
    expect(d.reason).to.match(/^retry after read ECONNRESET on r1: fallback to primary: no healthy replica/);
    expect(s.counters).to.deep.equal({ retries: 1, retriedOnPrimary: 1, primaryDown: 0 });
  });

  it('when the other replica fails too (all replicas died at once) the last try is the primary, and there is no third', () => {
    const s = setup();
    expect((s.fail({ node: s.r2, attempt: 2 }) as RouteDecision).node).to.equal(s.primary);
    expect(s.fail({ node: s.r1, attempt: 3 })).to.equal(undefined);
  });

  it("with fallback 'error' and no other healthy replica: ESPLIT_NO_REPLICA carrying the connection error", () => {
    const s = setup('error');
    s.r2.state = 'down';
    const err = s.fail({ node: s.r1 }) as SplitKnexError;
    expect(err).to.be.instanceOf(SplitKnexError);
    expect(err.code).to.equal('ESPLIT_NO_REPLICA');
    expect((err.cause as { code: string }).code).to.equal('ECONNRESET');
  });

  it('never retries SQL errors, misroutes on replicas, or pool-less oddities', () => {
    const s = setup();
    for (const err of [code('42P01'), code('23505'), code('57014'), new Error('boom')]) {
      expect(s.fail({ node: s.r1, err })).to.equal(undefined);
    }
    expect(s.fail({ node: s.r1, err: code('25006') })).to.equal(undefined); // the core's misroute guard owns it
    expect(s.counters.retries).to.equal(0);
  });

  it('never retries a bound instance, nor a stream after it started; a stream that could not connect may retry', () => {
    const s = setup();
    expect(s.fail({ node: s.r1, bound: true })).to.equal(undefined);
    expect(s.fail({ node: s.r1, streaming: true, phase: 'query' })).to.equal(undefined);
    expect((s.fail({ node: s.r1, streaming: true, phase: 'acquire', err: code('ECONNREFUSED') }) as RouteDecision).node).to.equal(s.r2);
  });

  it('retries a read whose pool wait failed (full pool, drained pool) elsewhere', () => {
    const s = setup();
    const full = Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' });
    expect((s.fail({ node: s.r1, phase: 'acquire', err: full }) as RouteDecision).node).to.equal(s.r2);
  });

  it('never retries a write: a connect error on the primary is ESPLIT_PRIMARY_DOWN, a connection lost while it ran is ESPLIT_WRITE_UNKNOWN', () => {
    const s = setup();
    const cause = code('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
    const err = s.fail({ node: s.primary, decision: { node: s.primary, access: 'write', reason: 'insert', tables: ['t'] }, err: cause, phase: 'acquire' }) as SplitKnexError;
    expect(err.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect(err.node).to.equal('primary');
    expect(err.cause).to.equal(cause);
    expect(err.message).to.equal('split-knex: could not connect to the primary (primary): connect ECONNREFUSED 127.0.0.1:5432');
    const mid = s.fail({ node: s.primary, decision: { node: s.primary, access: 'write', reason: 'insert', tables: ['t'] } }) as SplitKnexError;
    expect(mid.code).to.equal('ESPLIT_WRITE_UNKNOWN');
    expect(mid.node).to.equal('primary');
    expect(mid.message).to.equal('split-knex: the connection to the primary (primary) broke while this write ran; it may or may not have committed and was not run again: read ECONNRESET');
    expect((mid.cause as { code: string }).code).to.equal('ECONNRESET');
    expect(s.counters.primaryDown).to.equal(1);
    expect(s.counters.writeUnknown).to.equal(1);
    expect(s.counters.retries).to.equal(0);
  });

  it('a read that had to be on the primary and lost it runs again off the primary; a third try is ESPLIT_PRIMARY_DOWN; an SQL error there stays as it is', async () => {
    const s = setup();
    const d = (await s.fail({ node: s.primary })) as RouteDecision;
    expect(d.node.role).to.equal('replica');
    expect(d.reason).to.match(/^retry after read ECONNRESET on primary: /);
    expect(s.counters.writerReadRetries).to.equal(1);
    expect(((await s.fail({ node: s.primary, attempt: 3 })) as SplitKnexError).code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect(s.fail({ node: s.primary, err: code('42P01') })).to.equal(undefined);
  });

  it('a write the writer refused as read-only means it was demoted: ESPLIT_PRIMARY_DOWN and a probe now', async () => {
    const s = setup();
    const err = await s.fail({ node: s.primary, decision: { node: s.primary, access: 'write', reason: 'insert', tables: ['t'] }, err: code('25006', 'cannot execute INSERT in a read-only transaction') }) as SplitKnexError;
    expect(err.code).to.equal('ESPLIT_PRIMARY_DOWN');
    expect(err.message).to.match(/refused a write as read-only: it is a standby now/);
    expect(s.refused).to.deep.equal([s.primary]);
  });

  it('a write sent to the old writer just before a failover is never run again: ESPLIT_WRITE_UNKNOWN if it was sent, ESPLIT_PRIMARY_DOWN if it could not connect', () => {
    const s = setup();
    s.router.setWriter(s.r1);
    s.r1.role = 'primary';
    const write = { node: s.primary, access: 'write' as const, reason: 'insert', tables: ['t'] };
    expect((s.fail({ node: s.primary, decision: write }) as SplitKnexError).code).to.equal('ESPLIT_WRITE_UNKNOWN');
    expect((s.fail({ node: s.primary, decision: write, phase: 'acquire', err: code('ECONNREFUSED') }) as SplitKnexError).code).to.equal('ESPLIT_PRIMARY_DOWN');
  });

  it('with a hold, a write the writer refused as read-only (it never ran) waits for the new writer and runs there', async () => {
    const s = setup();
    const insert: Statement = { ...stmt, method: 'insert', sql: 'insert into t values (1)' };
    let waited = 0;
    const policy = failoverRetry({
      router: s.router, counters: s.counters, retryReads: true,
      hold: () => { waited++; s.router.setWriter(s.r1); s.r1.role = 'primary'; return Promise.resolve(true); },
    });
    const d = (await policy({
      node: s.primary, decision: { node: s.primary, access: 'write', reason: 'insert', tables: ['t'] }, statement: insert,
      err: code('25006', 'cannot execute INSERT in a read-only transaction'), attempt: 1, phase: 'query', streaming: false, bound: false,
    })) as RouteDecision;
    expect(waited).to.equal(1);
    expect(d.node).to.equal(s.r1);
    expect(d.access).to.equal('write');
    expect(d.reason).to.match(/^held for the new writer after primary refused it as read-only/);
  });

  it('a hold that times out leaves the refusal standing (ESPLIT_PRIMARY_DOWN)', async () => {
    const s = setup();
    const policy = failoverRetry({ router: s.router, counters: s.counters, retryReads: true, hold: () => Promise.resolve(false) });
    const err = (await policy({
      node: s.primary, decision: { node: s.primary, access: 'write', reason: 'insert', tables: ['t'] }, statement: stmt,
      err: code('25006'), attempt: 1, phase: 'query', streaming: false, bound: false,
    })) as SplitKnexError;
    expect(err.code).to.equal('ESPLIT_PRIMARY_DOWN');
  });

  it('respects retryReads: false', () => {
    const client = {} as KnexClient;
    const r1 = new Node('r1', 'replica', 1, client);
    const router = new Router({ primary: new Node('p', 'primary', 0, client), replicas: [r1], selector: createSelector('random'), classify: () => ({ access: 'read', reason: 'r', tables: [] }), fallback: 'primary', forcePrimary: () => false });
    const policy = failoverRetry({ router, counters: { retries: 0, retriedOnPrimary: 0, primaryDown: 0 }, retryReads: false });
    expect(policy({ node: r1, decision: { node: r1, access: 'read', reason: 'r', tables: [] }, statement: stmt, err: reset(), attempt: 1, phase: 'query', streaming: false, bound: false })).to.equal(undefined);
  });
});

describe('health: the suspect-avoiding read policy', () => {
  const client = {} as KnexClient;
  const nodes = () => [new Node('a', 'replica', 1, client), new Node('b', 'replica', 1, client)];

  it('filters out suspect replicas while an up one remains', () => {
    const [a, b] = nodes() as [Node, Node];
    b.state = 'suspect';
    const verdict = avoidSuspectReplicas.check(stmt, [a, b]) as (n: Node) => boolean;
    expect([a, b].filter(verdict)).to.deep.equal([a]);
  });

  it('says nothing when all are up, or none is', () => {
    const [a, b] = nodes() as [Node, Node];
    expect(avoidSuspectReplicas.check(stmt, [a, b])).to.equal(undefined);
    a.state = 'suspect';
    b.state = 'suspect';
    expect(avoidSuspectReplicas.check(stmt, [a, b])).to.equal(undefined);
  });
});
