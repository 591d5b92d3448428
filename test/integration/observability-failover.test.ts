import { context, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { splitKnex, type ReadinessReport, type SplitKnex } from '../../lib';
import { startCluster, type Cluster } from '../support/cluster';
import { splitConfigFor } from '../support/split-db';
import { parseExposition, sumOf, until } from '../support/prometheus-text';

const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

describe('observability when the primary stops (a throwaway cluster)', () => {
  let cluster: Cluster;
  let db: SplitKnex;
  const exporter = new InMemorySpanExporter();

  before(async () => {
    context.setGlobalContextManager(new AsyncHooksContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    cluster = await startCluster({ replicas: 1 });
    db = splitKnex(splitConfigFor(cluster, {
      health: { intervalMs: 50, timeoutMs: 500, failuresToDown: 2, connectTimeoutMs: 500 },
      discoverRoles: true,
      log: QUIET,
    }));
  });
  after(async () => {
    await db?.destroy();
    await cluster?.destroy();
    trace.disable();
    context.disable();
  });

  it('readiness is ok, then not ok with the reason once the primary is stopped', async () => {
    await until(() => db.readiness(), (r: ReadinessReport) => r.ok, 'readiness ok');
    await cluster.stop('primary', 'immediate');
    const r = await until(() => db.readiness(), (x: ReadinessReport) => !x.ok, 'readiness not ok');
    expect(r.primary).to.include({ node: 'primary', reachable: false, state: 'down' });
    expect(r.reasons).to.have.length(1);
    expect(r.reasons[0]).to.match(/^the primary \(primary\) is down/);
    expect(r.replicas.map((x) => [x.node, x.serving])).to.deep.equal([['replica1', true]]);
    expect(sumOf(parseExposition(db.metrics()), 'split_knex_node_state', { node: 'primary', state: 'down' })).to.equal(1);
  });

  it('records the failover to a promoted replica as a span, and readiness follows the new writer', async () => {
    await cluster.promote('replica1');
    const r = await until(() => db.readiness(), (x: ReadinessReport) => x.ok, 'readiness ok on the new writer');
    expect(r.primary).to.include({ node: 'replica1', reachable: true, writable: true });
    const span = exporter.getFinishedSpans().find((s) => s.name === 'split-knex failover');
    expect(span, 'a failover span').to.not.equal(undefined);
    expect(span!.parentSpanContext, 'a root span').to.equal(undefined);
    const event = span!.events.find((e) => e.name === 'split_knex.failover');
    expect(event?.attributes).to.include({ 'split_knex.from_node': 'primary', 'split_knex.to_node': 'replica1' });
    const m = parseExposition(db.metrics());
    expect(sumOf(m, 'split_knex_failovers_total')).to.equal(1);
    expect(sumOf(m, 'split_knex_writer', { node: 'replica1' })).to.equal(1);
  });
});
