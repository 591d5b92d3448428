import { expect } from 'chai';
import { splitKnex, type SplitKnex, type SplitKnexConfig } from '../../lib';
import { getTestCluster, setTestCluster, startCluster, type Cluster } from '../support/cluster';
import { ContainerCluster, DEFAULT_IMAGE } from '../support/cluster/container-cluster';
import { dockerImageAvailableSync } from '../support/cluster/docker-reachable';
import { pollUntil } from '../support/cluster/poll';
import { askServer, haproxyStatus, startProxies, waitForRole, withPrimaryUrl, type ProxyEndpoints } from '../support/topology-proxies';

// The classic topology of docker/compose.yml, started with testcontainers: a primary, two
// streaming replicas, HAProxy (role-aware write and read ports) and PgBouncer (transaction
// mode). Every "where did it run" comes from the server: inet_server_port() (each node
// listens on its published port) and pg_is_in_recovery().
//
// These tests need the images of docker/bootstrap-offline.sh. They register only when the
// run uses containers: SPLIT_KNEX_PROVIDER=containers (npm run test:containers), or the
// auto provider with a Docker engine that has the images. Otherwise they start nothing and
// say so in one line; with the containers provider forced they fail loudly, never pass empty.
const WHERE_AM_I = 'inet_server_port() as port, pg_is_in_recovery() as standby';

const why = skipReason();
if (why) {
  console.log(`[topology] HAProxy/PgBouncer tests not registered: ${why}`);
} else {
  describe('classic topology in containers: HAProxy write/read ports, PgBouncer transaction mode', function () {
    this.timeout(120_000);
    let cluster: ContainerCluster;
    let proxies: ProxyEndpoints;
    const open: SplitKnex[] = [];
    const make = (config: Partial<SplitKnexConfig> & Pick<SplitKnexConfig, 'connection'>): SplitKnex => {
      const db = splitKnex({ client: 'pg', pool: { min: 0, max: 4 }, ...config } as SplitKnexConfig);
      open.push(db);
      return db;
    };
    // Each group closes its instances before the failover stops the primary under them.
    const closeAll = () => Promise.all(open.splice(0).map((db) => db.destroy()));
    const port = (name: string) => cluster.node(name).port;

    before(async () => {
      // Our own cluster: the failover at the end promotes a node and stops the primary.
      const started = await startCluster({ provider: 'containers', replicas: 2, lagReplica: true });
      if (!(started instanceof ContainerCluster)) throw new Error(`expected a container cluster, got ${started.provider}`);
      cluster = started;
      proxies = await startProxies(cluster);
      await cluster.query('primary', 'create table tp_items (id serial primary key, v int not null, written_on int)');
      await cluster.waitForReplication();
    });

    after(async () => {
      await closeAll();
      await cluster?.destroy();
    });

    describe('HAProxy: the read port as the only replica, the write port as the primary', () => {
      let db: SplitKnex;
      before(() => {
        // Routing through the ports, not read-your-writes: behind a balancer the position read
        // on one pooled connection may come from another replica than the read's, so the LSN
        // promise does not hold (docs/topology.md), and with it on, a read after this group's
        // writes may rightly go to the primary until the read port's position is proven.
        db = make({ connection: proxies.write.url, replicas: [{ name: 'haproxy-read', connection: proxies.read.url }], sticky: { mode: 'none' } });
      });
      after(closeAll);

      it('sends writes through the write port to the primary', async () => {
        const raw = await db.raw(`insert into tp_items (v, written_on) values (1, inet_server_port()) returning ${WHERE_AM_I}`);
        expect(raw.rows[0]).to.deep.equal({ port: port('primary'), standby: false });
        const [row] = await db('tp_items').insert({ v: 2, written_on: db.raw('inet_server_port()') }).returning(['id', 'written_on']);
        expect(row.written_on).to.equal(port('primary'));
        const onPrimary = await cluster.query('primary', 'select v from tp_items where id = $1', [row.id]);
        expect(onPrimary).to.deep.equal([{ v: 2 }]);
      });

      it('sends reads through the read port to the replicas only', async () => {
        await cluster.waitForReplication();
        const replicaPorts = cluster.replicas.map((r) => r.port);
        for (let i = 0; i < 6; i++) {
          const rows = await db('tp_items').select('v', db.raw(WHERE_AM_I)).orderBy('id');
          expect(rows.map((r: { v: number }) => r.v)).to.include.members([1, 2]);
          expect(rows[0].standby).to.equal(true);
          expect(replicaPorts).to.include(rows[0].port);
        }
      });

      it('round-robins new read-port connections over both replicas and never over the primary', async () => {
        const seen = new Set<number>();
        for (let i = 0; i < 6; i++) {
          const server = await askServer(proxies.read);
          expect(server.standby).to.equal(true);
          seen.add(server.port);
        }
        expect([...seen].sort()).to.deep.equal(cluster.replicas.map((r) => r.port).sort());
      });
    });

    describe('PgBouncer (transaction mode) as the primary connection', () => {
      let db: SplitKnex;
      before(() => {
        db = make({
          connection: proxies.pgbouncer.url,
          replicas: cluster.replicas.map((r) => ({ name: r.name, connection: r.url })),
          pool: { min: 0, max: 1 }, // One client connection: every statement below shares it.
        });
      });
      after(closeAll);

      it('writes on the primary and reads on the replicas', async () => {
        // The read first: right after a write, read-your-writes sends the instance's reads to the
        // primary until the write's position is known.
        const [read] = await db.select(db.raw(WHERE_AM_I));
        expect(read.standby).to.equal(true);
        const raw = await db.raw(`insert into tp_items (v, written_on) values (3, inet_server_port()) returning ${WHERE_AM_I}`);
        expect(raw.rows[0]).to.deep.equal({ port: port('primary'), standby: false });
      });

      it('gives consecutive statements outside a transaction different backends, so no session state survives', async () => {
        // Three clients at once make PgBouncer open its three server connections; idle again,
        // they are handed out in turn (server_round_robin).
        await Promise.all([1, 2, 3].map(() => askServer(proxies.pgbouncer, 'select pg_sleep(0.3)')));
        const pids = new Set<number>();
        for (let i = 0; i < 6; i++) {
          const r = await db.raw(`select pg_backend_pid() as pid, txid_current() as x, ${WHERE_AM_I}`); // txid_current(): a write
          expect(r.rows[0].port).to.equal(port('primary'));
          pids.add(r.rows[0].pid);
        }
        // The same knex connection reached more than one server backend: anything split-knex
        // kept in session state (SET, PREPARE, temp tables) would have been lost.
        expect(pids.size).to.be.greaterThan(1);
      });

      it('keeps a transaction on one backend of the primary from BEGIN to COMMIT', async () => {
        const seen = await db.transaction(async (trx) => {
          const rows = [];
          for (let i = 0; i < 4; i++) rows.push((await trx.raw(`select pg_backend_pid() as pid, ${WHERE_AM_I}`)).rows[0]);
          await trx('tp_items').insert({ v: 4, written_on: trx.raw('inet_server_port()') });
          return rows;
        });
        expect(new Set(seen.map((r) => r.pid)).size).to.equal(1);
        expect(seen.every((r) => r.port === port('primary') && r.standby === false)).to.equal(true);
        expect(await cluster.query('primary', 'select count(*)::int as n from tp_items where v = 4')).to.deep.equal([{ n: 1 }]);
      });
    });

    // The whole routing suite again, with every primary connection through PgBouncer in
    // transaction mode (pool of 3 server connections handed out in turn): it passes only if
    // split-knex needs no session state between statements outside transactions.
    describe('the routing suite with PgBouncer as the primary connection', () => {
      let shared: Cluster | undefined;
      before(() => {
        try {
          shared = getTestCluster();
        } catch {
          shared = undefined;
        }
        setTestCluster(withPrimaryUrl(cluster, proxies.pgbouncer.url));
      });
      after(() => setTestCluster(shared));
      // mocha already loaded routing.test.ts at the top level; load it again in here.
      const routingSpec = require.resolve('./routing.test');
      delete require.cache[routingSpec];
      require(routingSpec);
    });

    describe('failover through HAProxy', () => {
      it('follows a promoted replica on the write port; split-knex writes succeed afterwards', async () => {
        const warnings: string[] = []; // knex warns about each pooled connection HAProxy cut
        const db = make({
          connection: proxies.write.url,
          replicas: [{ name: 'haproxy-read', connection: proxies.read.url }],
          log: { warn: (message: string) => warnings.push(message) },
        });
        const before = await db.raw(`insert into tp_items (v, written_on) values (10, inet_server_port()) returning ${WHERE_AM_I}`);
        expect(before.rows[0].port).to.equal(port('primary'));
        await cluster.waitForReplication();

        await cluster.stop('primary', 'immediate');
        await cluster.promote('replica1');
        // HAProxy checks every second and needs two failures to mark a node down.
        expect(await waitForRole(proxies.write, false, () => cluster.logTail('haproxy'), 30_000)).to.equal(port('replica1'));

        // Pooled connections to the old primary were cut (on-marked-down shutdown-sessions);
        // the first attempts may meet one of them, then new connections reach replica1.
        let after: { port: number; standby: boolean } | undefined;
        let lastError: unknown;
        for (let attempt = 0; attempt < 20 && !after; attempt++) {
          try {
            after = (await db.raw(`insert into tp_items (v, written_on) values (11, inet_server_port()) returning ${WHERE_AM_I}`)).rows[0];
          } catch (err) {
            lastError = err;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
        expect(after, `no write succeeded after the failover: ${String(lastError)}`).to.deep.equal({ port: port('replica1'), standby: false });
        const [row] = await db('tp_items').insert({ v: 12, written_on: db.raw('inet_server_port()') }).returning(['written_on']);
        expect(row.written_on).to.equal(port('replica1'));
        expect(await cluster.query('replica1', 'select count(*)::int as n from tp_items where v in (10, 11, 12)')).to.deep.equal([{ n: 3 }]);

        // HAProxy's own view: the promoted node is the writer and no longer a reader.
        // (The stopped primary needs two failed checks, each up to a connect timeout, to go DOWN.)
        const view = async () => {
          const status = await haproxyStatus(proxies.statsUrl);
          return ['pg_write/replica1', 'pg_write/primary', 'pg_read/replica1'].map((server) => status.get(server));
        };
        await pollUntil(async () => (await view()).join() === 'UP,DOWN,DOWN', { timeoutMs: 30_000, intervalMs: 200, what: 'HAProxy to mark the failover' });
        expect(await view()).to.deep.equal(['UP', 'DOWN', 'DOWN']);
        // The read port dropped the promoted node; the other replica (still in recovery) serves reads.
        const read = await waitForRole(proxies.read, true, () => cluster.logTail('haproxy'), 30_000);
        expect(read).to.equal(port('replica2'));
        for (let i = 0; i < 4; i++) expect(await askServer(proxies.read)).to.deep.equal({ port: port('replica2'), standby: true });
      });
    });
  });
}

// Undefined when the topology tests should run; otherwise why not.
function skipReason(): string | undefined {
  const provider = process.env['SPLIT_KNEX_PROVIDER'] || 'auto';
  if (provider === 'containers') return undefined; // Must run; a missing image fails in before().
  if (provider !== 'auto') return `SPLIT_KNEX_PROVIDER=${provider} (they need the containers provider: npm run test:containers)`;
  if (process.env['SPLIT_KNEX_PRIMARY_URL']) return 'SPLIT_KNEX_PRIMARY_URL is set (env provider)';
  const images = [process.env['SPLIT_KNEX_IMAGE'] || DEFAULT_IMAGE, 'split-knex/haproxy', 'split-knex/pgbouncer'];
  if (!images.every(dockerImageAvailableSync)) {
    return 'no Docker engine with the split-knex images (run docker/bootstrap-offline.sh, then npm run test:containers)';
  }
  return undefined;
}
