import { expect } from 'chai';
import { REPLICATION_TOPOLOGY_SQL, ReplicationTopology } from '../../lib/topology/replication-topology';
import { TopologyError } from '../../lib/topology/topology-error';
import { configError } from '../support/expect-config-error';

// Rows shaped as node-postgres returns REPLICATION_TOPOLOGY_SQL (json parsed, bigint as text),
// from a PostgreSQL 15 primary with two standbys; the real query runs in the Patroni lane.
const primary = { name: 'pg1', host: '10.0.0.1', port: 5432 };
const hosts = { pg2: { host: '10.0.0.2', port: 5432 }, pg3: { host: '10.0.0.3', port: 6432 } };

function answering(rows: Array<Record<string, unknown>>) {
  const seen: string[] = [];
  return { seen, query: async (sql: string) => (seen.push(sql), rows) };
}

describe('topology: ReplicationTopology (pg_stat_replication + a host map)', () => {
  it('reports the queried primary with its timeline and each mapped standby with state and lag in bytes, in one query', async () => {
    const q = answering([{
      in_recovery: false,
      timeline: 3,
      standbys: [
        { application_name: 'pg2', client_addr: '10.0.0.2', state: 'streaming', lag_bytes: '0' },
        { application_name: 'pg3', client_addr: '10.0.0.3', state: 'catchup', lag_bytes: '16777216' },
      ],
    }]);
    const { members } = await new ReplicationTopology({ query: q.query, primary, hosts }).read();
    expect(members).to.deep.equal([
      { name: 'pg1', host: '10.0.0.1', port: 5432, role: 'primary', state: 'running', timeline: 3 },
      { name: 'pg2', host: '10.0.0.2', port: 5432, role: 'replica', state: 'streaming', lagBytes: 0 },
      { name: 'pg3', host: '10.0.0.3', port: 6432, role: 'replica', state: 'catchup', lagBytes: 16777216 },
    ]);
    expect(q.seen).to.deep.equal([REPLICATION_TOPOLOGY_SQL]);
  });

  it('leaves out standbys the host map does not know, and omits lag before a standby first replies', async () => {
    const q = answering([{
      in_recovery: false,
      timeline: 1,
      standbys: JSON.stringify([
        { application_name: 'pg_basebackup', client_addr: '10.0.0.9', state: 'backup', lag_bytes: null },
        { application_name: 'pg2', client_addr: '10.0.0.2', state: 'startup', lag_bytes: null },
      ]),
    }]);
    const { members } = await new ReplicationTopology({ query: q.query, primary, hosts }).read();
    expect(members.map((m) => m.name)).to.deep.equal(['pg1', 'pg2']);
    expect(members[1]).to.not.have.property('lagBytes');
  });

  it('keeps one row per standby name, preferring streaming over a clone stream that carries the same name', async () => {
    const q = answering([{
      in_recovery: false,
      timeline: 1,
      standbys: [
        { application_name: 'pg2', client_addr: '10.0.0.2', state: 'backup', lag_bytes: null },
        { application_name: 'pg2', client_addr: '10.0.0.2', state: 'streaming', lag_bytes: '8' },
      ],
    }]);
    const { members } = await new ReplicationTopology({ query: q.query, primary, hosts }).read();
    expect(members[1]).to.deep.include({ name: 'pg2', state: 'streaming', lagBytes: 8 });
    expect(members).to.have.length(2);
  });

  it('maps standbys through a function of the row (e.g. by client_addr)', async () => {
    const q = answering([{ in_recovery: false, timeline: 1, standbys: [{ application_name: 'walreceiver', client_addr: '10.0.0.7', state: 'streaming', lag_bytes: '0' }] }]);
    const source = new ReplicationTopology({ query: q.query, primary, hosts: (row) => (row.client_addr ? { host: row.client_addr, port: 5432 } : undefined) });
    expect((await source.read()).members[1]).to.include({ name: 'walreceiver', host: '10.0.0.7' });
  });

  it('rejects when the queried node is in recovery, so a demoted primary is noticed rather than read as "no standbys"', async () => {
    const q = answering([{ in_recovery: true, timeline: null, standbys: [] }]);
    const err = await new ReplicationTopology({ query: q.query, primary, hosts }).read().then(() => undefined, (e: unknown) => e as TopologyError);
    expect(err).to.be.instanceOf(TopologyError);
    expect(err?.message).to.equal('split-knex: pg1 is in recovery (a standby): it cannot report the cluster\'s replication');
  });

  it("wraps a failed query, keeping the driver's error as the cause and only the node's name in the message", async () => {
    const dbErr = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    const source = new ReplicationTopology({ query: async () => { throw dbErr; }, primary, hosts });
    const err = await source.read().then(() => undefined, (e: unknown) => e as TopologyError);
    expect(err?.message).to.equal('split-knex: reading pg_stat_replication on pg1 failed (see cause)');
    expect(err?.cause).to.equal(dbErr);
  });

  it('validates its options eagerly, naming the key', () => {
    expect(configError(() => new ReplicationTopology({ query: undefined as never, primary, hosts })).message).to.include('"discover.replication.query"');
    expect(configError(() => new ReplicationTopology({ query: async () => [], primary: { name: 'x' } as never, hosts })).message).to.include('"discover.replication.primary"');
    expect(configError(() => new ReplicationTopology({ query: async () => [], primary, hosts: null as never })).message).to.include('"discover.replication.hosts"');
  });
});
