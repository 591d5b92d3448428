import { expect } from 'chai';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';
import { primaryReadsSlower, READ_TIME_FRESH_MS, SLOWER_FLOOR_MS, SLOWER_RATIO } from '../../lib/route/read-times';

// The busy-primary signal's second half: reads on the primary much slower than on a replica.
describe('read times: when the primary counts as slower than the replicas', () => {
  const node = (name: string, role: 'primary' | 'replica') => new Node(name, role, 1, {} as KnexClient);
  let primary: Node;
  let r1: Node;
  let r2: Node;
  beforeEach(() => {
    primary = node('primary', 'primary');
    r1 = node('r1', 'replica');
    r2 = node('r2', 'replica');
  });
  // `reads` reads of `ms` each, the last ending at `at`.
  const reads = (n: Node, ms: number, at: number, count = 30) => {
    for (let i = 0; i < count; i++) n.noteRead(ms, at);
  };

  it('a node averages its reads, and remembers when the last ended', () => {
    primary.noteRead(10, 5);
    expect(primary.readMs).to.equal(10);
    primary.noteRead(0, 7);
    expect(primary.readMs).to.equal(9); // 10 + (0 − 10) × 0.1: synthetic values, not a measured time
    expect(primary.readAt).to.equal(7);
  });

  it('unknown is not slow: no reads on the primary, or none on any replica', () => {
    expect(primaryReadsSlower(primary, [r1, r2], 100)).to.equal(false);
    reads(primary, 50, 100);
    expect(primaryReadsSlower(primary, [r1, r2], 100)).to.equal(false);
  });

  it('slow: the primary over the ratio times the fastest fresh replica, and over the floor', () => {
    reads(primary, 10, 100);
    reads(r1, 8, 100);
    reads(r2, 1, 100);
    expect(primaryReadsSlower(primary, [r1, r2], 100)).to.equal(true);
  });

  it('not slow: within the ratio of the fastest replica', () => {
    reads(primary, 1.9 * SLOWER_FLOOR_MS, 100);
    reads(r1, SLOWER_FLOOR_MS, 100);
    expect(SLOWER_RATIO).to.be.greaterThan(1.9);
    expect(primaryReadsSlower(primary, [r1], 100)).to.equal(false);
  });

  it('not slow: under the floor, however many times the replicas (sub-millisecond jitter is not queueing)', () => {
    reads(primary, SLOWER_FLOOR_MS * 0.9, 100);
    reads(r1, 0.01, 100);
    expect(primaryReadsSlower(primary, [r1], 100)).to.equal(false);
  });

  it('old readings do not count: a primary not read lately, or replicas not read lately', () => {
    reads(primary, 20, 0);
    reads(r1, 1, 0);
    expect(primaryReadsSlower(primary, [r1], READ_TIME_FRESH_MS)).to.equal(true);
    expect(primaryReadsSlower(primary, [r1], READ_TIME_FRESH_MS + 1)).to.equal(false);
    reads(primary, 20, 5000);
    expect(primaryReadsSlower(primary, [r1], 5000)).to.equal(false);
  });

  it('a replica that is down, or the primary itself among the readers, is no yardstick', () => {
    reads(primary, 20, 100);
    reads(r1, 1, 100);
    r1.state = 'down';
    expect(primaryReadsSlower(primary, [r1], 100)).to.equal(false);
    expect(primaryReadsSlower(primary, [primary], 100)).to.equal(false);
  });
});
