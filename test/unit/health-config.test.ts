import { expect } from 'chai';
import { HEALTH_DEFAULTS, normalizeHealthConfig } from '../../lib/health/health-config';
import { splitKnex } from '../../lib/split-knex';
import { configError } from '../support/expect-config-error';

describe('health config', () => {
  it('has documented defaults: 1 s interval, 1 s probe timeout, 2 failures, backoff capped at 2 intervals, 5 s connect timeout', () => {
    const h = normalizeHealthConfig({});
    expect(h).to.deep.equal({
      enabled: true, intervalMs: 1000, timeoutMs: 1000, failuresToDown: 2, maxBackoffMs: 2000,
      connectTimeoutMs: 5000, retryReads: true, closeOnDown: 'replicas', discoverRoles: false,
    });
    expect(HEALTH_DEFAULTS.intervalMs).to.equal(1000);
  });

  it('derives the backoff cap from the interval unless set', () => {
    expect(normalizeHealthConfig({ health: { intervalMs: 250 } }).maxBackoffMs).to.equal(500);
    expect(normalizeHealthConfig({ health: { intervalMs: 250, maxBackoffMs: 10_000 } }).maxBackoffMs).to.equal(10_000);
  });

  it('health: false turns the probe off; true means the defaults', () => {
    expect(normalizeHealthConfig({ health: false }).enabled).to.equal(false);
    expect(normalizeHealthConfig({ health: true }).enabled).to.equal(true);
  });

  it('connectTimeoutMs: 0 leaves node-postgres without a connect timeout', () => {
    expect(normalizeHealthConfig({ health: { connectTimeoutMs: 0 } }).connectTimeoutMs).to.equal(0);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a negative interval', { health: { intervalMs: -1 } }, /"health.intervalMs" must be an integer >= 10 \(milliseconds\); got -1/],
    ['a fractional timeout', { health: { timeoutMs: 1.5 } }, /"health.timeoutMs" must be an integer/],
    ['zero failures', { health: { failuresToDown: 0 } }, /"health.failuresToDown" must be an integer >= 1; got 0/],
    ['a backoff cap below the interval', { health: { intervalMs: 1000, maxBackoffMs: 500 } }, /"health.maxBackoffMs" must be an integer >= 1000/],
    ['a string timeout', { health: { connectTimeoutMs: '5s' } }, /"health.connectTimeoutMs" must be an integer >= 1 \(milliseconds\); got "5s"/],
    ['an unknown key, with the closest known one', { health: { interval: 5 } }, /"health.interval" is not a health option \(did you mean "intervalMs"\? expected one of intervalMs/],
    ['a non-boolean retryReads', { health: { retryReads: 'yes' } }, /"health.retryReads" must be a boolean/],
    ['an unknown closeOnDown', { health: { closeOnDown: true } }, /"health.closeOnDown" must be 'replicas', 'all' or 'none'; got true/],
    ['health as a number', { health: 5 }, /"health" must be an object of health options, true, or false/],
    ['discoverRoles as a string', { discoverRoles: 'yes' }, /"discoverRoles" must be a boolean; got "yes"/],
    ['discoverRoles without the probe', { discoverRoles: true, health: false }, /"discoverRoles" needs the health probe/],
  ];
  for (const [what, raw, message] of bad) {
    it(`rejects ${what}, naming the key and the value`, () => {
      expect(configError(() => normalizeHealthConfig(raw)).message).to.match(message);
    });
  }

  it('is validated eagerly by splitKnex(), before any pool exists', () => {
    const err = configError(() => splitKnex({ client: 'pg', connection: 'postgres://u:secret@h/db', health: { timeoutMs: 0 } }));
    expect(err.message).to.match(/health.timeoutMs/);
    expect(err.message).to.not.include('secret');
  });
});
