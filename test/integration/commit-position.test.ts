import { expect } from 'chai';
import { Client } from 'pg';
import { readCommitPosition } from '../../lib/route/commit-position';
import type { PooledConnection } from '../../lib/knex/knex-internals';
import { getTestCluster } from '../support/cluster';
import { pollUntil } from '../support/cluster/poll';

// The shared commit position must be reachable by a standby: at or after the commit, and
// never past what an idle primary will ever send (the page-header trap).
describe('commit position read after a write', () => {
  let primary: Client;
  before(async () => {
    const cluster = getTestCluster();
    primary = new Client({ connectionString: cluster.primary.url });
    await primary.connect();
    await primary.query('create table if not exists cp_items (id serial primary key, v int)');
  });
  after(async () => primary?.end());

  it('covers the commit and is reached by every replica while the primary is idle', async () => {
    const cluster = getTestCluster();
    for (let i = 0; i < 5; i++) {
      await primary.query('insert into cp_items (v) values ($1)', [i]);
      const position = await readCommitPosition(primary as unknown as PooledConnection);
      const [{ flushed }] = (await primary.query("select (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::text as flushed")).rows;
      expect(position <= BigInt(flushed), 'position is not past what the primary has written').to.equal(true);
      for (const r of cluster.replicas.filter((n) => n !== cluster.lagReplica)) {
        await pollUntil(async () => {
          const [row] = await cluster.query(r.name, "select (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text as replayed");
          return BigInt(row.replayed) >= position;
        }, { timeoutMs: 10_000, what: `${r.name} to replay the commit position` });
      }
    }
  });
});
