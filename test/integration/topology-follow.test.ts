import { expect } from 'chai';
import type { SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { destroyAll, makeDb, nodeByPort, WHERE_AM_I } from '../support/split-db';

// Topology discovery and replica entries that are not standbys, on the shared cluster
// (nothing is stopped or promoted: the topology is what the callback says).

const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

describe('topology: nodes that join and leave at run time, and replica entries that point at a primary', function () {
  this.timeout(30_000);
  after(destroyAll);

  const cluster = () => getTestCluster();
  const readsOn = async (db: SplitKnex, n = 24): Promise<Set<string>> => {
    const rows = await Promise.all(Array.from({ length: n }, () => db.first(db.raw(WHERE_AM_I))));
    return new Set(rows.map((r: any) => nodeByPort(r.port)));
  };
  const waitFor = async (what: string, fn: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!fn()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('discover.callback: replicas it reports join and take reads; a replica it stops reporting drains and takes no more', async () => {
    const c = cluster();
    const member = (name: string, role: 'primary' | 'replica') => {
      const n = c.node(name);
      return { name, host: n.host, port: n.port, role, state: role === 'primary' ? 'running' : 'streaming' };
    };
    let members = [member('primary', 'primary'), member('replica1', 'replica'), member('replica2', 'replica')];
    const db = makeDb({ replicas: [], discover: { callback: () => members, intervalMs: 100 }, sticky: { mode: 'none' }, catalog: false, log: QUIET });
    const events: Array<[string, any]> = [];
    for (const e of ['node-added', 'node-removed']) db.on(e, (p: unknown) => events.push([e, p]));
    await db.ready();
    expect(await readsOn(db)).to.deep.equal(new Set(['replica1', 'replica2']));
    expect(events.map(([e, p]) => [e, p.node])).to.deep.equal([['node-added', 'replica1'], ['node-added', 'replica2']]);

    members = members.filter((m) => m.name !== 'replica2');
    await waitFor('replica2 removed', () => events.some(([e]) => e === 'node-removed'));
    expect(events.at(-1)).to.deep.equal(['node-removed', { node: 'replica2', address: `${c.node('replica2').host}:${c.node('replica2').port}`, source: 'callback' }]);
    expect(await readsOn(db)).to.deep.equal(new Set(['replica1']));
    expect((db.stats() as any).topology).to.include({ source: 'callback', added: 2, removed: 1, lastError: null });
    expect(Object.keys(db.stats().health.nodes)).to.deep.equal(['primary', 'replica1']);

    // It comes back: a fresh node, taking reads again.
    members = [...members, member('replica2', 'replica')];
    await waitFor('replica2 back', () => events.filter(([e]) => e === 'node-added').length === 3);
    expect(await readsOn(db)).to.deep.equal(new Set(['replica1', 'replica2']));
  });

  it('a replica entry that points at the primary takes no reads, emits not-a-standby, logs a warning and shows in stats()', async () => {
    const c = cluster();
    const warnings: string[] = [];
    const db = makeDb({
      replicas: [{ name: 'wrong', connection: c.primary.url }, { name: 'replica1', connection: c.node('replica1').url }],
      sticky: { mode: 'none' }, catalog: false,
      log: { ...QUIET, warn: (m: string) => warnings.push(String(m)) },
    });
    const events: any[] = [];
    db.on('not-a-standby', (p: unknown) => events.push(p));
    await db.ready();
    await waitFor('the probe of wrong', () => db.stats().health.nodes['wrong']?.inRecovery === false);
    expect(await readsOn(db)).to.deep.equal(new Set(['replica1']));
    expect(events).to.deep.equal([{ node: 'wrong', role: 'replica', reason: 'wrong is listed as a replica but answers as a primary (pg_is_in_recovery() is false): it takes no reads' }]);
    expect(warnings.filter((w) => w.includes('wrong is listed as a replica'))).to.have.length(1);
    expect(db.stats().health.nodes['wrong']).to.include({ notStandby: true, inRecovery: false, state: 'up' });
  });
});
