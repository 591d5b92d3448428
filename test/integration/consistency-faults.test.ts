import { expect } from 'chai';
import { splitKnex, type ConsistencyStats, type SplitKnex } from '../../lib';
import { startCluster, type Cluster } from '../support/cluster';
import { pollUntil } from '../support/cluster/poll';

// A replica that stops answering (SIGSTOP: TCP still accepts, nothing replies) must not
// hang a causal read, the position poller, or db.destroy(); a primary that is down must
// not take the reads consistency would send it. Own throwaway cluster: the shared one is
// never paused or stopped.
describe('consistency: faults', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let db: SplitKnex | undefined;

  before(async () => {
    cluster = await startCluster({ replicas: 1, fixtures: false });
    await cluster.query('primary', 'create table cs_fault (id serial primary key, v int)');
    await cluster.waitForReplication();
  });
  after(async () => {
    await cluster.resume('replica1').catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    await cluster.destroy();
  });

  it('bounds the causal read, forgets the position, falls back to the window, and destroy() still returns', async () => {
    db = splitKnex({
      client: 'pg',
      connection: cluster.primary.url,
      replicas: [{ name: 'replica1', connection: cluster.replicas[0]!.url }],
      pool: { min: 0, max: 4 },
      sticky: { mode: 'lsn', windowMs: 5000, scope: 'none' },
      lag: { pollIntervalMs: 100, pollTimeoutMs: 300 },
    });
    const s = () => db!.stats().consistency as ConsistencyStats;
    await db.ready();
    await pollUntil(async () => s().replicas[0]!.replayLsn !== null, { timeoutMs: 10_000, what: 'a first position poll' });
    await cluster.pause('replica1');

    const row = await db.runInContext(async () => {
      const [ins] = await db!('cs_fault').insert({ v: 1 }).returning('id');
      return db!('cs_fault').where({ id: ins.id }).first('id', db!.raw('inet_server_port() as port'));
    });
    expect(row.port).to.equal(cluster.primary.port);
    await pollUntil(async () => /no answer within 300 ms/.test(s().replicas[0]!.lastError ?? ''), {
      timeoutMs: 10_000, what: 'the poller to report the silent replica', describe: () => JSON.stringify(s().replicas),
    });
    expect(s().replicas[0]!.replayLsn).to.equal(null);

    await cluster.resume('replica1');
    // destroy() returns (a hang fails the test by its timeout): nothing waits on the silent node.
    await db.destroy();
    db = undefined;
  });

  it('a sticky read while the health checks hold the primary down goes to a replica', async () => {
    await cluster.waitForReplication();
    db = splitKnex({
      client: 'pg',
      connection: cluster.primary.url,
      replicas: [{ name: 'replica1', connection: cluster.replicas[0]!.url }],
      pool: { min: 0, max: 4 },
      sticky: { mode: 'window', windowMs: 60_000, scope: 'none' },
      health: { intervalMs: 100, timeoutMs: 500, connectTimeoutMs: 1000 },
      log: { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined },
    });
    const down = new Promise<void>((resolve) => db!.on('node-down', (e: { node: string }) => { if (e.node === 'primary') resolve(); }));
    try {
      const where = await db.runInContext(async () => {
        await db!('cs_fault').insert({ v: 2 });
        const before = await db!.first(db!.raw('pg_is_in_recovery() as standby'));
        await cluster.waitForReplication();
        await cluster.stop('primary', 'immediate');
        await down;
        const after = await db!.first(db!.raw('pg_is_in_recovery() as standby, (select count(*)::int from cs_fault where v = 2) as n'));
        return { before: before.standby as boolean, after };
      });
      expect(where.before).to.equal(false); // the window sent it to the primary while it was up
      expect(where.after).to.deep.equal({ standby: true, n: 1 });
      expect((db.stats().consistency as ConsistencyStats).primaryDownReads).to.equal(1);
    } finally {
      await cluster.start('primary');
    }
  });
});
