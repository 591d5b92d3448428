import { context, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { ReadinessReport, SplitKnex } from '../../lib';
import { getTestCluster } from '../support/cluster';
import { parseExposition, sumOf, until, type Sample } from '../support/prometheus-text';
import { destroyAll, makeDb } from '../support/split-db';

const TABLE = 'obs_items';

describe('observability: db.metrics(), prom-client, traces, db.readiness()', () => {
  before(async () => {
    const cluster = getTestCluster();
    await cluster.query('primary', `create table if not exists ${TABLE} (id int primary key, name text)`);
    await cluster.query('primary', `insert into ${TABLE} values (1, 'a') on conflict do nothing`);
    await cluster.waitForReplication();
  });
  after(destroyAll);

  describe('metrics', () => {
    it('counts reads on replicas, writes on the primary and route kinds per node in the Prometheus text', async () => {
      const db = makeDb({ sticky: { mode: 'none' } });
      for (let i = 0; i < 4; i++) await db(TABLE).select('id');
      await db(TABLE).where({ id: 2 }).del();
      await db(TABLE).where({ id: 3 }).del();
      await db.usePrimary(() => db(TABLE).select('id'));
      const m = parseExposition(db.metrics());
      expect(sumOf(m, 'split_knex_reads_total', { role: 'replica' })).to.equal(4);
      expect(sumOf(m, 'split_knex_reads_total', { node: 'primary', role: 'primary' })).to.equal(1);
      expect(sumOf(m, 'split_knex_writes_total', { node: 'primary', role: 'primary' })).to.equal(2);
      expect(sumOf(m, 'split_knex_routes_total', { role: 'replica', access: 'read', reason: 'read' })).to.equal(4);
      expect(sumOf(m, 'split_knex_routes_total', { node: 'primary', access: 'write', reason: 'write' })).to.equal(2);
      expect(sumOf(m, 'split_knex_routes_total', { node: 'primary', access: 'read', reason: 'use_primary' })).to.equal(1);
      expect(sumOf(m, 'split_knex_primary_reads_total', { cause: 'usePrimary' })).to.equal(1);
      expect(sumOf(m, 'split_knex_node_state', { node: 'replica1', state: 'up' })).to.equal(1);
      expect(sumOf(m, 'split_knex_writer', { node: 'primary' })).to.equal(1);
      // A read's moving time per node that has served reads: the primary (usePrimary) and
      // the replicas, each a positive number of seconds.
      const readTimes = m.filter((x) => x.name === 'split_knex_read_seconds');
      expect(readTimes.map((x) => x.labels.node).sort()).to.deep.equal(db.stats().nodes.filter((x) => x.readMs !== null).map((x) => x.name).sort());
      expect(readTimes.map((x) => x.labels.node)).to.include('primary');
      for (const x of readTimes) expect(x.value).to.be.greaterThan(0);
    });

    it('counts read-your-writes outcomes after a write, and replica lag once positions are polled', async () => {
      const db = makeDb();
      await db.ready();
      await db(TABLE).where({ id: 4 }).del();
      await db(TABLE).where({ id: 1 }).first();
      const m = parseExposition(db.metrics());
      expect(sumOf(m, 'split_knex_read_your_writes_total')).to.equal(1);
      expect(m.filter((s) => s.name === 'split_knex_replica_lag_bytes').map((s) => s.labels.node).sort()).to.deep.equal(['replica1', 'replica2']);
      expect(sumOf(m, 'split_knex_background_connection_up')).to.equal(3);
    });

    it('counts result cache hits and misses', async () => {
      const db = makeDb({ cache: { max: 100, ttlMs: 60_000 }, sticky: { mode: 'none' } });
      await db.ready();
      await until(() => db.stats().cache?.catalog.ready, (v) => v === true, 'the relation catalog');
      await db(TABLE).where({ id: 1 }).cache();
      await db(TABLE).where({ id: 1 }).cache();
      const m = parseExposition(db.metrics());
      expect(sumOf(m, 'split_knex_cache_misses_total')).to.equal(1);
      expect(sumOf(m, 'split_knex_cache_hits_total')).to.equal(1);
    });

    it('counts a misroute and its retry from the replica to the primary', async () => {
      const db = makeDb({ sticky: { mode: 'none' } });
      // The user vouches for this raw SQL: the replica refuses it (25006), the misroute guard retries it.
      await db.raw(`delete from ${TABLE} where id = 5`).queryContext({ splitKnex: { target: 'replica' } });
      const m = parseExposition(db.metrics());
      expect(sumOf(m, 'split_knex_misroutes_total')).to.equal(1);
      expect(sumOf(m, 'split_knex_retries_total', { to: 'primary', phase: 'query' })).to.equal(1);
      expect(m.find((s) => s.name === 'split_knex_retries_total')?.labels.from).to.match(/^replica[12]$/);
    });

    it('registers the same series into a prom-client Registry, in both of its formats', async () => {
      const db = makeDb({ sticky: { mode: 'none' } });
      await db(TABLE).select('id');
      const registry = new Registry();
      db.registerMetrics(registry);
      const ours = parseExposition(db.metrics());
      const theirs = parseExposition(await registry.metrics());
      const names = (s: Sample[]): string[] => [...new Set(s.map((x) => x.name))].sort();
      expect(names(theirs)).to.deep.equal(names(ours));
      const reads = (s: Sample[]): Sample[] => s.filter((x) => x.name === 'split_knex_reads_total');
      expect(reads(theirs)).to.deep.equal(reads(ours));

      const open = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
      open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      db.registerMetrics(open);
      const text = await open.metrics();
      expect(text).to.match(/^split_knex_reads_total\{node="replica[12]",role="replica"\} 1$/m);
      expect(text).not.to.contain('_total_total');
    });
  });

  describe('traces (@opentelemetry/api installed)', () => {
    const exporter = new InMemorySpanExporter();
    before(() => {
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      context.setGlobalContextManager(new AsyncHooksContextManager().enable());
      trace.setGlobalTracerProvider(provider);
    });
    after(() => {
      trace.disable();
      context.disable();
    });
    beforeEach(() => exporter.reset());

    const inSpan = <T>(name: string, fn: () => Promise<T>): Promise<T> =>
      trace.getTracer('test').startActiveSpan(name, async (span) => {
        try {
          return await fn();
        } finally {
          span.end();
        }
      });
    const spanNamed = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);

    it('sets the node, role and route reason on the span active when a statement is routed', async () => {
      const db = makeDb({ sticky: { mode: 'none' } });
      await inSpan('read items', () => db(TABLE).select('id'));
      await inSpan('write items', () => db(TABLE).where({ id: 6 }).del());
      const read = spanNamed('read items')!.attributes;
      expect(read['split_knex.node']).to.match(/^replica[12]$/);
      expect(read['split_knex.role']).to.equal('replica');
      expect(read['split_knex.access']).to.equal('read');
      expect(read['split_knex.route_reason_kind']).to.equal('read');
      expect(read['split_knex.route_reason']).to.be.a('string').and.not.equal('');
      const write = spanNamed('write items')!.attributes;
      expect(write['split_knex.node']).to.equal('primary');
      expect(write['split_knex.role']).to.equal('primary');
      expect(write['split_knex.route_reason_kind']).to.equal('write');
    });

    it('adds a split_knex.retry event to the active span when a statement is retried on another node', async () => {
      const db = makeDb({ sticky: { mode: 'none' } });
      await inSpan('misrouted write', () => db.raw(`delete from ${TABLE} where id = 7`).queryContext({ splitKnex: { target: 'replica' } }).then(() => undefined));
      const span = spanNamed('misrouted write')!;
      const retry = span.events.find((e) => e.name === 'split_knex.retry');
      expect(retry?.attributes?.['split_knex.from_node']).to.match(/^replica[12]$/);
      expect(retry?.attributes?.['split_knex.to_node']).to.equal('primary');
      expect(retry?.attributes?.['error.type']).to.equal('25006');
      expect(span.attributes['split_knex.node']).to.equal('primary');
    });
  });

  describe('readiness', () => {
    it('is ok on a healthy cluster: primary reachable and writable, both replicas serving with a known lag', async () => {
      const db = makeDb();
      const r = await until(() => db.readiness(), (x: ReadinessReport) => x.ok, 'readiness ok');
      expect(r.reasons).to.deep.equal([]);
      expect(r.primary).to.include({ node: 'primary', reachable: true, writable: true, state: 'up' });
      expect(r.replicas.map((x) => [x.node, x.serving])).to.deep.equal([['replica1', true], ['replica2', true]]);
      expect(r.replicas.every((x) => x.lagMs !== null)).to.equal(true);
      expect(JSON.parse(JSON.stringify(r))).to.deep.equal(r);
    });

    it('opens no backend per call: 50 calls leave every node with the same connections', async () => {
      const db = makeDb();
      await until(() => db.readiness(), (x: ReadinessReport) => x.ok, 'readiness ok');
      const before = await backends(db);
      for (let i = 0; i < 50; i++) await db.readiness();
      expect(await backends(db)).to.deep.equal(before);
    });

    it('is not ok while fewer replicas than minReplicas are within maxLagMs', async () => {
      const db = makeDb();
      await until(() => db.readiness(), (x: ReadinessReport) => x.ok, 'readiness ok');
      const r = await db.readiness({ minReplicas: 3 });
      expect(r.ok).to.equal(false);
      expect(r.reasons).to.deep.equal(['2 replica(s) serving, 3 required']);
    });

    it('says destroyed after destroy() instead of throwing', async () => {
      const db = makeDb();
      await db.ready();
      await db.destroy();
      const r = await db.readiness();
      expect(r.ok).to.equal(false);
      expect(r.state).to.equal('destroyed');
    });
  });
});

// Backends per node (split-knex's pools and background connections, and the others'),
// counted from pg_stat_activity through the harness's own connection.
async function backends(db: SplitKnex): Promise<Array<{ node: string; n: number; connects: number }>> {
  const cluster = getTestCluster();
  const out: Array<{ node: string; n: number; connects: number }> = [];
  const links = db.stats().background.connections;
  for (const node of cluster.nodes) {
    const rows = await cluster.query(node.name, "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend'");
    out.push({ node: node.name, n: (rows[0] as { n: number }).n, connects: links.find((l) => l.node === node.name)?.connects ?? -1 });
  }
  return out;
}
