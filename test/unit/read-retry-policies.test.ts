import { expect } from 'chai';
import { schemaLagRetry } from '../../lib/consistency/schema-lag-retry';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';
import type { ReadRetryEvent } from '../../lib/route/read-retry';
import { createSelector } from '../../lib/route/replica-selector';
import { Router, type RouteDecision } from '../../lib/route/router';
import type { Statement } from '../../lib/route/statement';
import { tempRelationRetry } from '../../lib/route/temp-relation-retry';
import type { FailedAttempt } from '../../lib/subsystem';

const select = (sql: string): Statement => ({ kind: 'query', method: 'select', sql, lock: undefined, hint: undefined, table: undefined });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

function setup(writerDown = false) {
  const client = {} as KnexClient;
  const primary = new Node('primary', 'primary', 0, client);
  const r1 = new Node('r1', 'replica', 1, client);
  const router = new Router({
    primary, replicas: [r1], selector: createSelector('round-robin'),
    classify: () => ({ access: 'read', reason: 'read', tables: ['t'] }), fallback: 'primary', forcePrimary: () => false,
  });
  router.compose([], writerDown ? [() => new Error('primary down')] : []);
  const failure = (sql: string, err: unknown, over: Partial<FailedAttempt> = {}): FailedAttempt => {
    const decision: RouteDecision = { node: r1, access: 'read', reason: 'read (select)', tables: ['t'] };
    return { node: r1, decision, statement: select(sql), err, attempt: 1, phase: 'query', streaming: false, bound: false, ...over };
  };
  return { primary, r1, router, failure };
}

describe('the temporary-relation guard (core retry policy)', () => {
  const missing = pgError('42P01', 'select * from "scratch" - relation "scratch" does not exist');

  it('runs a replica read that missed an unqualified relation once on the primary, counted by cause and announced', () => {
    const s = setup();
    const events: ReadRetryEvent[] = [];
    const policy = tempRelationRetry({ router: s.router, enabled: true, note: (e) => events.push(e) });
    const d = policy(s.failure('select * from "scratch"', missing)) as RouteDecision;
    expect([d.node, d.access, d.reason]).to.deep.equal([s.primary, 'read', 'temp-relation retry: r1 has no temporary relations']);
    expect(s.router.primaryReads.get('temp-relation')).to.equal(1);
    expect(events).to.deep.equal([{ node: 'r1', retriedOn: 'primary', cause: 'temp-relation', code: '42P01', message: missing.message, sql: 'select * from "scratch"' }]);
  });

  it('leaves everything else alone: catalog on, a second try, writes, streams, bound builders, the primary, other codes, qualified names', () => {
    const s = setup();
    const off = tempRelationRetry({ router: s.router, enabled: false, note: () => undefined });
    expect(off(s.failure('select * from "scratch"', missing))).to.equal(undefined);
    const on = tempRelationRetry({ router: s.router, enabled: true, note: () => undefined });
    const sql = 'select * from "scratch"';
    const writeDecision: RouteDecision = { node: s.r1, access: 'write', reason: 'hint: replica', tables: [] };
    for (const f of [
      s.failure(sql, missing, { attempt: 2 }),
      s.failure(sql, missing, { decision: writeDecision }),
      s.failure(sql, missing, { streaming: true }),
      s.failure(sql, missing, { bound: true }),
      s.failure(sql, missing, { phase: 'acquire' }),
      s.failure(sql, missing, { node: s.primary }),
      s.failure(sql, pgError('42703', 'column "x" does not exist')),
      s.failure('select * from app.scratch', pgError('42P01', 'relation "app.scratch" does not exist')),
    ]) expect(on(f)).to.equal(undefined);
    expect(s.router.primaryReads.size).to.equal(0);
  });

  it('lets the replica\'s error stand while the primary may not take statements', () => {
    const s = setup(true);
    const policy = tempRelationRetry({ router: s.router, enabled: true, note: () => undefined });
    expect(policy(s.failure('select * from "scratch"', missing))).to.equal(undefined);
  });
});

describe('the schema-lag guard (consistency retry stage)', () => {
  function positions(replay: bigint | undefined, primary: bigint | undefined, afterPoll?: { replay?: bigint; primary?: bigint }) {
    const state = { replay, primary, polls: 0 };
    return {
      state,
      view: {
        replayed: () => state.replay,
        get primaryPosition() { return state.primary; },
        pollAll: async () => {
          state.polls++;
          if (afterPoll?.replay !== undefined) state.replay = afterPoll.replay;
          if (afterPoll?.primary !== undefined) state.primary = afterPoll.primary;
        },
      },
    };
  }

  it('retries 42P01/42703/42883/42704/3F000 once on the primary when fresh positions say the replica is behind', async () => {
    for (const code of ['42P01', '42703', '42883', '42704', '3F000']) {
      const s = setup();
      // The last poll predates the migration: only the fresh one shows the replica behind.
      const p = positions(0x100n, 0x100n, { primary: 0x200n });
      let count = 0;
      const events: ReadRetryEvent[] = [];
      const policy = schemaLagRetry({ router: s.router, positions: p.view, count: () => count++, emit: (e) => events.push(e) });
      const d = (await policy(s.failure('select * from items', pgError(code, 'missing')))) as RouteDecision;
      expect(d.node, code).to.equal(s.primary);
      expect(d.reason).to.equal(`schema-lag retry: r1 answered ${code} at 0/100, behind the primary at 0/200`);
      expect([count, p.state.polls]).to.deep.equal([1, 1]);
      expect(events[0]).to.deep.include({ cause: 'schema-lag', code, replayLsn: '0/100', primaryLsn: '0/200', node: 'r1', retriedOn: 'primary' });
    }
  });

  it('lets an honest error through: caught up, positions unknown, or a code that is not about a missing object', async () => {
    const s = setup();
    let count = 0;
    for (const [replay, primary] of [[0x200n, 0x200n], [0x300n, 0x200n], [undefined, 0x200n], [0x100n, undefined]] as const) {
      const policy = schemaLagRetry({ router: s.router, positions: positions(replay, primary).view, count: () => count++, emit: () => undefined });
      expect(await policy(s.failure('select * from items', pgError('42P01', 'missing')))).to.equal(undefined);
    }
    const behind = positions(0x100n, 0x200n);
    const policy = schemaLagRetry({ router: s.router, positions: behind.view, count: () => count++, emit: () => undefined });
    expect(await policy(s.failure('select 1/0', pgError('22012', 'division by zero')))).to.equal(undefined);
    expect(behind.state.polls, 'no poll for an unrelated error').to.equal(0);
    expect(count).to.equal(0);
  });

  it('never retries writes, streams, bound builders, a second try, or while the primary is refused', async () => {
    const s = setup();
    const p = positions(0x100n, 0x200n);
    const policy = schemaLagRetry({ router: s.router, positions: p.view, count: () => undefined, emit: () => undefined });
    const err = pgError('42P01', 'missing');
    const writeDecision: RouteDecision = { node: s.r1, access: 'write', reason: 'hint: replica', tables: [] };
    for (const over of [{ streaming: true }, { bound: true }, { attempt: 2 }, { decision: writeDecision }, { node: s.primary }]) {
      expect(await policy(s.failure('select * from items', err, over))).to.equal(undefined);
    }
    const down = setup(true);
    const refused = schemaLagRetry({ router: down.router, positions: p.view, count: () => undefined, emit: () => undefined });
    expect(await refused(down.failure('select * from items', err))).to.equal(undefined);
  });

  it('shares one fresh round of positions between reads that fail together', async () => {
    const s = setup();
    const p = positions(0x100n, 0x200n);
    const policy = schemaLagRetry({ router: s.router, positions: p.view, count: () => undefined, emit: () => undefined });
    const err = pgError('42P01', 'missing');
    await Promise.all([policy(s.failure('select * from a', err)), policy(s.failure('select * from b', err))]);
    expect(p.state.polls).to.equal(1);
  });
});
