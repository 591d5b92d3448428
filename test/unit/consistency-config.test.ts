import { expect } from 'chai';
import { splitKnex, type SplitKnexConfig } from '../../lib';
import { normalizeConsistencyConfig } from '../../lib/consistency/consistency-config';
import { normalizeClock, systemClock } from '../../lib/clock';
import { configError as configErrorOf } from '../support/expect-config-error';

describe('consistency config (sticky, lag)', () => {
  it('defaults to LSN mode, a 2 s fallback window, no wait, global scope, 1 s polls and no lag limits', () => {
    const o = normalizeConsistencyConfig({});
    expect(o).to.deep.include({ mode: 'lsn', windowMs: 2000, perTable: false, maxWaitMs: 0, scope: 'global' });
    expect(o.lag).to.deep.equal({
      maxLagMs: undefined, maxLagBytes: undefined, pollIntervalMs: 1000, pollTimeoutMs: 2000, onExceeded: 'primary', maxWaitMs: 1000, minReplicas: 0, hysteresisMs: 5000,
    });
    expect(o.clock).to.equal(systemClock);
  });

  it('takes every documented option', () => {
    const clock = { now: () => 5 };
    const o = normalizeConsistencyConfig({
      sticky: { mode: 'window', windowMs: 500, perTable: true, maxWaitMs: 30, scope: 'none' },
      lag: { maxLagMs: 100, maxLagBytes: 1 << 20, pollIntervalMs: 50, pollTimeoutMs: 300, onExceeded: 'wait', maxWaitMs: 200, minReplicas: 1, hysteresisMs: 2000 },
      clock,
    });
    expect(o).to.deep.include({ mode: 'window', windowMs: 500, perTable: true, maxWaitMs: 30, scope: 'none' });
    expect(o.clock.now()).to.equal(5);
    expect(o.lag).to.deep.equal({ maxLagMs: 100, maxLagBytes: 1 << 20, pollIntervalMs: 50, pollTimeoutMs: 300, onExceeded: 'wait', maxWaitMs: 200, minReplicas: 1, hysteresisMs: 2000 });
  });

  it('accepts consistency.scope as the same setting as sticky.scope, and refuses a contradiction', () => {
    expect(normalizeConsistencyConfig({ consistency: { scope: 'none' } }).scope).to.equal('none');
    const err = configErrorOf(() => normalizeConsistencyConfig({ consistency: { scope: 'none' }, sticky: { scope: 'global' } }));
    expect(err.message).to.contain('consistency.scope');
  });

  it('takes the already validated clock when one is passed (NormalizedConfig.clock)', () => {
    const clock = normalizeClock({ now: () => 7 });
    expect(normalizeConsistencyConfig({}, clock).clock).to.equal(clock);
  });

  it("gives every timer of a configured clock a handle of its own (a fake's setTimeout may return nothing) and hands the clock back its own to cancel", () => {
    const cleared: unknown[] = [];
    const fake = normalizeClock({ now: () => 0, setTimeout: () => undefined, clearTimeout: (h: unknown) => void cleared.push(h) });
    const a = fake.setTimeout(() => undefined, 10);
    const b = fake.setTimeout(() => undefined, 10);
    expect(a).to.not.equal(undefined);
    expect(a).to.not.equal(b);
    fake.clearTimeout(a);
    expect(cleared).to.deep.equal([undefined]);
    const numbered = normalizeClock({ now: () => 0, setTimeout: () => 7, clearTimeout: (h: unknown) => void cleared.push(h) });
    numbered.clearTimeout(numbered.setTimeout(() => undefined, 10));
    expect(cleared).to.deep.equal([undefined, 7]);
  });

  it('refuses a clock without now() instead of silently using the system clock', () => {
    expect(configErrorOf(() => normalizeConsistencyConfig({ clock: 42 })).message).to.contain('"clock"').and.contain('42');
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['sticky.mode', { sticky: { mode: 'session' } }, '"session"'],
    ['sticky.windowMs', { sticky: { windowMs: -1 } }, '-1'],
    ['sticky.windowMs', { sticky: { windowMs: 1.5 } }, '1.5'],
    ['sticky.maxWaitMs', { sticky: { maxWaitMs: '50' } }, '"50"'],
    ['sticky.perTable', { sticky: { perTable: 'yes' } }, '"yes"'],
    ['sticky.scope', { sticky: { scope: 'request' } }, '"request"'],
    ['sticky.window', { sticky: { window: 1000 } }, '1000'],
    ['sticky', { sticky: 'lsn' }, '"lsn"'],
    ['lag.maxLagMs', { lag: { maxLagMs: 0 } }, '0'],
    ['lag.maxLagBytes', { lag: { maxLagBytes: Number.NaN } }, 'NaN'],
    ['lag.onExceeded', { lag: { onExceeded: 'replica' } }, '"replica"'],
    ['lag.pollTimeoutMs', { lag: { pollTimeoutMs: 0 } }, '0'],
    ['lag.maxLag', { lag: { maxLag: 10 } }, '10'],
    ['consistency.mode', { consistency: { mode: 'lsn' } }, '"lsn"'],
  ];
  for (const [key, raw, shown] of bad) {
    it(`rejects ${key} = ${shown}, naming the key and the value`, () => {
      const err = configErrorOf(() => normalizeConsistencyConfig(raw));
      expect(err.message).to.contain(`"${key}"`).and.to.contain(shown);
    });
  }

  it('validates eagerly in splitKnex(): no instance is built from a wrong sticky section', () => {
    const err = configErrorOf(() => splitKnex({ client: 'pg', connection: 'postgres://127.0.0.1:1/x', sticky: { mode: 'gtid' } } as unknown as SplitKnexConfig));
    expect(err.message).to.contain('sticky.mode');
  });

  it('refuses lag limits with background polling turned off', () => {
    const err = configErrorOf(() => splitKnex({ client: 'pg', connection: 'postgres://127.0.0.1:1/x', lag: { maxLagMs: 100, pollIntervalMs: 0 } }));
    expect(err.message).to.contain('lag.pollIntervalMs');
  });
});
