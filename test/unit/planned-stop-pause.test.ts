import { expect } from 'chai';
import type { NormalizedClock } from '../../lib/clock';
import { PLANNED_STOP_LEAD_MS, PlannedStopPause } from '../../lib/health/planned-stop-pause';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';
import type { PlannedStop } from '../../lib/topology/topology-source';

function setup(holdMs = 8000) {
  let t = 1_000_000;
  const clock: NormalizedClock = { now: () => t, setTimeout: () => undefined, clearTimeout: () => undefined };
  const client = {} as KnexClient;
  const n1 = new Node('n1', 'primary', 1, client);
  const n2 = new Node('n2', 'replica', 1, client);
  const pause = new PlannedStopPause(holdMs, clock);
  return { pause, n1, n2, at: (ms: number) => { t = ms; }, now: () => t };
}

describe('health: writes pause before a planned stop of the writer (PlannedStopPause)', () => {
  it('refuses the writer from the lead before the stop until the stop time plus the hold bound; never before, never after', () => {
    const { pause, n1, at } = setup(8000);
    const stop: PlannedStop = { member: 'n1', at: 2_000_000, reason: 'switchover to n2 scheduled' };
    pause.update(new Map([[n1, stop]]));
    at(2_000_000 - PLANNED_STOP_LEAD_MS - 1);
    expect(pause.refusal(n1)).to.equal(undefined);
    at(2_000_000 - PLANNED_STOP_LEAD_MS);
    const refusal = pause.refusal(n1);
    expect(refusal).to.include({ code: 'ESPLIT_PRIMARY_DOWN', node: 'n1' });
    expect(refusal?.message).to.contain('about to stop').and.contain('switchover to n2 scheduled');
    at(2_000_000 + 8000);
    expect(pause.refusal(n1)).to.not.equal(undefined);
    at(2_000_000 + 8001);
    expect(pause.refusal(n1)).to.equal(undefined);
  });

  it('refuses only the node that stops, and lets it through once the source no longer announces the stop', () => {
    const { pause, n1, n2, at } = setup();
    pause.update(new Map([[n1, { member: 'n1', at: 2_000_000, reason: 'switchover scheduled' }]]));
    at(2_000_000);
    expect(pause.refusal(n2)).to.equal(undefined);
    expect(pause.refusal(n1)).to.not.equal(undefined);
    pause.update(new Map());
    expect(pause.refusal(n1)).to.equal(undefined);
  });

  it('never refuses without a hold (failover.holdWritesMs 0): the writes would fail instead of waiting', () => {
    const { pause, n1, at } = setup(0);
    pause.update(new Map([[n1, { member: 'n1', at: 2_000_000, reason: 'switchover scheduled' }]]));
    at(2_000_000);
    expect(pause.refusal(n1)).to.equal(undefined);
  });

  it('a stop without a time pauses from when it was first announced; the same plan read again counts as one pause', () => {
    const { pause, n1, at, now } = setup(1000);
    pause.update(new Map([[n1, { member: 'n1', reason: 'demote under way' }]]));
    const seen = now();
    expect(pause.refusal(n1)).to.not.equal(undefined);
    at(seen + 500);
    pause.update(new Map([[n1, { member: 'n1', reason: 'demote under way' }]]));
    expect(pause.refusal(n1)).to.not.equal(undefined);
    at(seen + 1001);
    expect(pause.refusal(n1)).to.equal(undefined);
    expect(pause.stats().pauses).to.equal(1);
    expect(pause.stats().pending).to.deep.equal({ node: 'n1', at: null, reason: 'demote under way' });
  });
});
