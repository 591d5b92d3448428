// Proves the cluster harness with the servers' own answers, so every other integration
// test can trust what `getTestCluster()` and the fault-injection methods claim.
import { expect } from 'chai';
import * as net from 'node:net';
import { getTestCluster, startCluster, type Cluster } from '../support/cluster';

const table = `harness_probe_${process.pid}`;

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('cluster harness', () => {
  describe('the shared test cluster', () => {
    let cluster: Cluster;

    before(async () => {
      cluster = getTestCluster();
      await cluster.query('primary', `CREATE TABLE ${table} (id serial PRIMARY KEY, note text NOT NULL)`);
    });

    after(async () => {
      if (cluster.lagReplica) await cluster.setApplyDelay(cluster.lagReplica.name, 0);
      await cluster.query('primary', `DROP TABLE IF EXISTS ${table}`);
    });

    it('has a primary that is not in recovery and listens on its advertised port', async () => {
      const [row] = await cluster.query('primary', 'SELECT pg_is_in_recovery() AS r, inet_server_port() AS port');
      expect(row).to.deep.equal({ r: false, port: cluster.primary.port });
      // URLs given through SPLIT_KNEX_PRIMARY_URL are used as they are.
      if (cluster.provider === 'env') return;
      expect(cluster.primary.url).to.equal(
        `postgres://${cluster.primary.user}@127.0.0.1:${cluster.primary.port}/${cluster.primary.database}`,
      );
    });

    it('has two replicas that are in recovery, listen on their advertised ports and stream from the primary', async () => {
      expect(cluster.replicas).to.have.length(2);
      for (const replica of cluster.replicas) {
        const [row] = await cluster.query(
          replica.name,
          `SELECT pg_is_in_recovery() AS r, inet_server_port() AS port, current_database() AS db,
                  (SELECT status FROM pg_stat_wal_receiver) AS receiver`,
        );
        expect(row).to.deep.equal({ r: true, port: replica.port, db: replica.database, receiver: 'streaming' });
      }
      const senders = await cluster.query('primary', `SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'`);
      expect(senders[0].n).to.equal(2);
    });

    it('makes a row written on the primary readable on every replica after waitForReplication', async () => {
      const [{ id }] = await cluster.query('primary', `INSERT INTO ${table} (note) VALUES ('everywhere') RETURNING id`);
      await cluster.waitForReplication(5000);
      for (const replica of cluster.replicas) {
        const rows = await cluster.query(replica.name, `SELECT note FROM ${table} WHERE id = $1`, [id]);
        expect(rows, replica.name).to.deep.equal([{ note: 'everywhere' }]);
      }
    });

    it('holds a row back on the delayed replica only, and releases it when the delay is removed', async () => {
      const lag = cluster.lagReplica;
      expect(lag, 'lagReplica').to.not.equal(undefined);
      if (!lag) return;
      const others = cluster.replicas.filter((r) => r.name !== lag.name).map((r) => r.name);
      await cluster.setApplyDelay(lag.name, 30_000);
      const [setting] = await cluster.query(lag.name, 'SHOW recovery_min_apply_delay');
      expect(setting.recovery_min_apply_delay).to.equal('30s');

      const [{ id }] = await cluster.query('primary', `INSERT INTO ${table} (note) VALUES ('delayed') RETURNING id`);
      // The default wait skips delayed replicas, so this returns promptly.
      await cluster.waitForReplication(5000);
      for (const name of others) {
        expect(await cluster.query(name, `SELECT id FROM ${table} WHERE id = $1`, [id]), name).to.have.length(1);
      }
      expect(await cluster.query(lag.name, `SELECT id FROM ${table} WHERE id = $1`, [id])).to.have.length(0);
      const waitErr = await rejects(cluster.waitForReplication(300, [lag.name]));
      expect(waitErr.message).to.match(new RegExp(`${lag.name} to replay primary LSN`));

      await cluster.setApplyDelay(lag.name, 0);
      await cluster.waitForReplication(5000, [lag.name]);
      expect(await cluster.query(lag.name, `SELECT id FROM ${table} WHERE id = $1`, [id])).to.have.length(1);
    });

    it('rejects bad options eagerly, naming the option and the value', async () => {
      const err = await rejects(startCluster({ replicas: -1 }));
      expect(err.message).to.equal('replicas option must be an integer from 0 to 8, got -1');
    });
  });

  describe('fault injection on a throwaway cluster', function () {
    let cluster: Cluster | undefined;

    before(async function () {
      // Servers named by URL cannot be stopped or paused. (In a mocha --parallel worker the
      // shared cluster is re-attached as 'env' too, yet a local throwaway one works.)
      if (process.env['SPLIT_KNEX_PRIMARY_URL']) this.skip();
      const { provider } = getTestCluster();
      cluster = await startCluster({ replicas: 1, provider: provider === 'env' ? 'auto' : provider, fixtures: false });
      await cluster.query('primary', 'CREATE TABLE faults (id int PRIMARY KEY)');
    });

    after(async () => {
      await cluster?.destroy();
    });

    function c(): Cluster {
      if (!cluster) throw new Error('throwaway cluster did not start');
      return cluster;
    }

    it('refuses connections to a stopped replica and streams again after start', async () => {
      await c().stop('replica1', 'fast');
      const err = await rejects(c().query('replica1', 'SELECT 1', [], { timeoutMs: 1000 }));
      expect(err.message).to.match(/cannot connect to replica1/);

      await c().query('primary', 'INSERT INTO faults VALUES (1)');
      await c().start('replica1');
      await c().waitForReplication(5000);
      const [row] = await c().query(
        'replica1',
        `SELECT pg_is_in_recovery() AS r, (SELECT status FROM pg_stat_wal_receiver) AS receiver,
                (SELECT count(*)::int FROM faults) AS n`,
      );
      expect(row).to.deep.equal({ r: true, receiver: 'streaming', n: 1 });
    });

    it('survives an immediate (crash) stop of a replica', async () => {
      await c().stop('replica1', 'immediate');
      await c().start('replica1');
      const [row] = await c().query('replica1', 'SELECT pg_is_in_recovery() AS r');
      expect(row.r).to.equal(true);
    });

    it('pauses a replica so TCP connects but nothing answers, and resumes it', async () => {
      const replica = c().node('replica1');
      await c().pause('replica1');
      try {
        await new Promise<void>((resolve, reject) => {
          const socket = net.connect({ host: replica.host, port: replica.port }, () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        });
        const err = await rejects(c().query('replica1', 'SELECT 1', [], { timeoutMs: 1000 }));
        expect(err.message).to.match(/cannot connect to replica1.*timeout/i);
      } finally {
        await c().resume('replica1');
      }
      const [row] = await c().query('replica1', 'SELECT 1 AS ok', [], { timeoutMs: 5000 });
      expect(row.ok).to.equal(1);
    });

    it('promotes a replica into a writable primary', async () => {
      await c().promote('replica1');
      const [row] = await c().query('replica1', 'SELECT pg_is_in_recovery() AS r');
      expect(row.r).to.equal(false);
      await c().query('replica1', 'INSERT INTO faults VALUES (2)');
      // A promoted replica no longer follows the primary; the default wait ignores it.
      await c().waitForReplication(1000);
    });

    it('removes every server and file on destroy', async () => {
      const { port } = c().primary;
      await c().destroy();
      const err = await rejects(c().query('primary', 'SELECT 1', [], { timeoutMs: 1000 }));
      expect(err.message).to.include(`127.0.0.1:${port}`);
    });
  });
});
