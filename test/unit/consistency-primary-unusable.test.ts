import { expect } from 'chai';
import { primaryUnusable } from '../../lib/consistency/primary-unusable';
import { SplitKnexError } from '../../lib/errors';
import type { KnexClient } from '../../lib/knex/knex-internals';
import { Node } from '../../lib/route/node';

// Where read-your-writes sends a read the primary should take when the primary cannot.
describe('consistency: when the primary counts as unusable for reads', () => {
  const writer = new Node('primary', 'primary', 1, {} as KnexClient);
  const view = (refusal: Error | undefined) => ({ currentWriter: writer, writerRefusal: () => refusal });

  afterEach(() => { writer.state = 'up'; });

  it('up and accepted: usable', () => {
    expect(primaryUnusable(view(undefined))).to.equal(false);
  });

  it('known down, or refused by a guard (answers as a standby): unusable, the freshest replica takes the read', () => {
    writer.state = 'down';
    expect(primaryUnusable(view(undefined))).to.equal(true);
    writer.state = 'up';
    expect(primaryUnusable(view(new SplitKnexError('ESPLIT_PRIMARY_DOWN', 'answers as a standby', { node: 'primary' })))).to.equal(true);
  });

  it('paused before a planned stop: usable (the read waits with the writes for the next primary; a replica may lack the last write)', () => {
    const pause = new SplitKnexError('ESPLIT_PRIMARY_DOWN', 'about to stop', { node: 'primary', plannedStop: true });
    expect(pause.plannedStop).to.equal(true);
    expect(primaryUnusable(view(pause))).to.equal(false);
  });
});
