import { expect } from 'chai';
import pg from 'pg';
import { watchHotStandby } from '../../lib/topology/hot-standby-watch';
import { startCluster, type Cluster, type NodeInfo } from '../support/cluster';

// What PostgreSQL (>= 14; 15 here) tells a node-postgres session about promotion, through
// the in_hot_standby ParameterStatus. Promotion cannot be undone: a throwaway cluster.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('in_hot_standby: a session on a replica learns of its promotion', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  const clients: pg.Client[] = [];

  before(async () => {
    cluster = await startCluster({ replicas: 1 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await cluster?.destroy();
  });

  function clientFor(node: NodeInfo): pg.Client {
    const client = new pg.Client({ host: node.host, port: node.port, user: node.user, database: node.database, password: node.password });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  it('reports on, then off with the first statement after promotion; an idle session is not told', async () => {
    const replica = clientFor(cluster.node('replica1'));
    await replica.connect();
    const seen: Array<[boolean, boolean | undefined]> = [];
    const watch = await watchHotStandby(replica, (value, previous) => seen.push([value, previous]));
    expect(seen).to.deep.equal([[true, undefined]]);

    await cluster.promote('replica1'); // Resolves once the server answers pg_is_in_recovery() = false.
    const [{ r }] = await cluster.query('replica1', 'select pg_is_in_recovery() as r');
    expect(r).to.equal(false);
    // The server reports a changed in_hot_standby only before the ReadyForQuery of a
    // statement (ReportChangedGUCOptions): a session that sends nothing hears nothing.
    await sleep(1000);
    expect(seen, 'an idle session was told of the promotion').to.deep.equal([[true, undefined]]);
    expect(watch.current).to.equal(true);

    const res = await replica.query('select 1 as one');
    expect(res.rows[0].one).to.equal(1);
    expect(seen).to.deep.equal([[true, undefined], [false, true]]);
    expect(watch.current).to.equal(false);
    watch.stop();
  });

  it('takes the current value from a client still connecting (the startup messages), without a second report', async () => {
    const promoted = clientFor(cluster.node('replica1'));
    const connecting = promoted.connect();
    const seen: boolean[] = [];
    const [watch] = await Promise.all([watchHotStandby(promoted, (value) => seen.push(value)), connecting]);
    expect(seen).to.deep.equal([false]);
    expect(watch.current).to.equal(false);
    watch.stop();
  });
});
