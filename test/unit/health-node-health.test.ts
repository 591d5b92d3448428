import { expect } from 'chai';
import { electWriter, type Candidate } from '../../lib/health/elect-writer';
import { NodeHealth } from '../../lib/health/node-health';

const standby = { inRecovery: true, readOnly: true, latencyMs: 1 };
const primary = { inRecovery: false, readOnly: false, latencyMs: 1 };
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('health: one node as a state machine', () => {
  it('goes up -> suspect -> down after failuresToDown probe failures, and back up on one good probe', () => {
    const h = new NodeHealth(2);
    expect(h.fail(refused, 'probe', 0)).to.deep.equal({ from: 'up', to: 'suspect' });
    expect(h.fail(refused, 'probe', 10)).to.deep.equal({ from: 'suspect', to: 'down' });
    expect(h.downSince).to.equal(10);
    expect(h.fail(refused, 'probe', 20)).to.equal(undefined);
    expect(h.succeed(standby, 30)).to.deep.equal({ from: 'down', to: 'up' });
    expect([h.failures, h.ejections, h.readmissions, h.downSince]).to.deep.equal([0, 1, 1, undefined]);
  });

  it('counts the application\'s connection errors once between two probes (a dead server fails every connection at once)', () => {
    const h = new NodeHealth(2);
    expect(h.fail(refused, 'traffic', 0)).to.deep.equal({ from: 'up', to: 'suspect' });
    for (let i = 0; i < 7; i++) expect(h.fail(refused, 'traffic', 1)).to.equal(undefined);
    expect(h.state).to.equal('suspect');
    // The probe that follows confirms.
    expect(h.fail(refused, 'probe', 2)).to.deep.equal({ from: 'suspect', to: 'down' });
  });

  it('a single terminated connection on a healthy node only makes it suspect until the next probe', () => {
    const h = new NodeHealth(2);
    h.fail(Object.assign(new Error('terminating connection'), { code: '57P01' }), 'traffic', 0);
    expect(h.succeed(standby, 5)).to.deep.equal({ from: 'suspect', to: 'up' });
  });

  it('keeps the last error without secrets, and the error object as the cause', () => {
    const h = new NodeHealth(1);
    h.fail(refused, 'probe', 0);
    expect(h.lastError).to.equal('connect ECONNREFUSED 127.0.0.1:5432');
    expect(h.lastCause).to.equal(refused);
  });

  it('re-probes a down node with backoff: the interval, doubling, capped', () => {
    const h = new NodeHealth(2);
    expect(h.nextDelay(250, 1000)).to.equal(250);
    h.fail(refused, 'probe', 0);
    expect(h.nextDelay(250, 1000)).to.equal(250);
    h.fail(refused, 'probe', 0);
    const delays = [h.nextDelay(250, 1000)];
    for (let i = 0; i < 4; i++) {
      h.fail(refused, 'probe', 0);
      delays.push(h.nextDelay(250, 1000));
    }
    expect(delays).to.deep.equal([250, 500, 1000, 1000, 1000]);
  });

  it('knows whether the node answered read-write', () => {
    const h = new NodeHealth(2);
    expect(h.writable).to.equal(undefined);
    h.succeed(primary, 0);
    expect(h.writable).to.equal(true);
    h.succeed({ ...primary, readOnly: true }, 1);
    expect(h.writable).to.equal(false);
  });
});

describe('health: who takes the writes (role discovery)', () => {
  const view = (nodes: Record<string, Partial<Candidate>>) => (name: string): Candidate =>
    ({ name, down: false, writable: undefined, configured: name === 'primary', ...nodes[name] });
  const all = ['primary', 'r1', 'r2'];

  it('keeps a writer that is up and read-write, even when another node claims to be primary (split brain)', () => {
    const v = view({ primary: { writable: true }, r1: { writable: true }, r2: { writable: false } });
    expect(electWriter('primary', all, v)).to.deep.equal({ writer: 'primary', changed: false });
  });

  it('keeps a writer not probed yet', () => {
    expect(electWriter('primary', all, view({ r1: { writable: true } })).changed).to.equal(false);
  });

  it('moves writes to the one node answering read-write when the writer is down', () => {
    const v = view({ primary: { down: true, writable: true }, r1: { writable: true }, r2: { writable: false } });
    expect(electWriter('primary', all, v)).to.deep.equal({ writer: 'r1', changed: true, reason: 'primary is down; r1 answers as primary' });
  });

  it('moves writes away from a writer that answers as a standby (demoted)', () => {
    const v = view({ primary: { writable: false }, r1: { writable: false }, r2: { writable: true } });
    expect(electWriter('primary', all, v)).to.deep.include({ writer: 'r2', changed: true, reason: 'primary answers as a standby; r2 answers as primary' });
  });

  it('never picks a down node, nor one that did not answer read-write', () => {
    const v = view({ primary: { down: true }, r1: { down: true, writable: true }, r2: { writable: false } });
    expect(electWriter('primary', all, v).changed).to.equal(false);
  });

  it('does not guess when several nodes claim the role, unless one of them is the configured primary', () => {
    const v = view({ primary: { down: true }, r1: { writable: true }, r2: { writable: true } });
    expect(electWriter('primary', all, v).changed).to.equal(false);
    const back = view({ primary: { writable: true }, r1: { down: true }, r2: { writable: true } });
    expect(electWriter('r1', all, back)).to.deep.include({ writer: 'primary', changed: true });
  });
});
